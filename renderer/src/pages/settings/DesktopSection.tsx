/**
 * Settings of the desktop app itself, shown only in the Electron window.
 */
import { Switch } from '@mantine/core';
import { useState } from 'react';
import type { FarmboyWindowApi } from '../../../../electron/preload/bridge.js';
import { notifyError } from '../../lib/notify.js';

export function DesktopSection({ api }: { api: FarmboyWindowApi }) {
  const [openAtLogin, setOpenAtLogin] = useState(api.openAtLogin === true);
  const change = async (enabled: boolean) => {
    try {
      setOpenAtLogin(await api.setOpenAtLogin(enabled));
    } catch (error) {
      notifyError('Could not change start at login', error);
    }
  };
  return <Switch label="Start Farmboy when I log in, so schedules fire without opening the window" checked={openAtLogin} onChange={(event) => void change(event.currentTarget.checked)} />;
}
