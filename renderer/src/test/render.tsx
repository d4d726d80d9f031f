/**
 * Renders a component inside the app's Mantine theme for component tests.
 */
import { MantineProvider } from '@mantine/core';
import { configure, render, type RenderResult } from '@testing-library/react';
import type { ReactElement } from 'react';
import { theme } from '../app/theme.js';

// Two shared cores and other test files running beside: give async queries room.
configure({ asyncUtilTimeout: 5000 });

export function renderWithTheme(element: ReactElement): RenderResult {
  return render(<MantineProvider theme={theme}>{element}</MantineProvider>);
}
