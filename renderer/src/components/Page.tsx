/**
 * The padded, width-limited area every page renders in.
 */
import { Box } from '@mantine/core';
import type { ReactNode } from 'react';

export function Page({ children, wide = false, label }: { children: ReactNode; wide?: boolean; label: string }) {
  return (
    <Box component="section" aria-label={label} p="lg" maw={wide ? undefined : 1400} mx="auto">
      {children}
    </Box>
  );
}
