/**
 * A confirmation dialog for destructive actions.
 */
import { Button, Group, Modal, Text } from '@mantine/core';
import { useState, type ReactNode } from 'react';

export interface ConfirmProps {
  opened: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onCancel(): void;
  /** May return a promise; the dialog shows a spinner until it settles. */
  onConfirm(): unknown;
}

export function ConfirmDialog({ opened, title, children, confirmLabel, onCancel, onConfirm }: ConfirmProps) {
  const [busy, setBusy] = useState(false);
  const confirm = async () => {
    setBusy(true);
    try {
      await onConfirm();
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal opened={opened} onClose={onCancel} title={<Text fw={600}>{title}</Text>}>
      <Text size="sm">{children}</Text>
      <Group justify="flex-end" mt="lg">
        <Button variant="default" onClick={onCancel}>
          Cancel
        </Button>
        <Button color="red" loading={busy} onClick={() => void confirm()}>
          {confirmLabel}
        </Button>
      </Group>
    </Modal>
  );
}
