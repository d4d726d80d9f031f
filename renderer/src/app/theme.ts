/**
 * The Mantine theme: a field-green primary colour, compact desktop density
 * and the system font stack, in light and dark schemes.
 */
import { createTheme, type MantineColorsTuple } from '@mantine/core';

const farm: MantineColorsTuple = ['#e9f8ef', '#d6eedf', '#aadbbe', '#7cc89b', '#56b87d', '#3dae6a', '#2ea95f', '#20934f', '#158344', '#007236'];

export const theme = createTheme({
  primaryColor: 'farm',
  primaryShade: { light: 7, dark: 6 },
  colors: { farm },
  defaultRadius: 'md',
  fontFamily: 'Inter, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  fontFamilyMonospace: '"JetBrains Mono", "Cascadia Mono", "SFMono-Regular", Menlo, Consolas, monospace',
  headings: { fontWeight: '650' },
  cursorType: 'pointer',
  components: {
    Button: { defaultProps: { size: 'sm' } },
    Table: { defaultProps: { verticalSpacing: 'xs', highlightOnHover: true } },
    Tooltip: { defaultProps: { openDelay: 300, withArrow: true } },
    Modal: { defaultProps: { centered: true, overlayProps: { backgroundOpacity: 0.45, blur: 2 } } },
    // Clamping on blur would turn a typed -1 into the minimum without a word; left as typed, the form's validation names the problem.
    NumberInput: { defaultProps: { clampBehavior: 'none' } },
  },
});
