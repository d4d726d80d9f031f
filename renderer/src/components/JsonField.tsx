/**
 * A monospace text area for JSON. Validation is the caller's, so the message
 * shown is always the caller's own (Mantine's JsonInput replaces it with a
 * bare red border after blur).
 */
import { Textarea, type TextareaProps } from '@mantine/core';

export interface JsonFieldProps extends Omit<TextareaProps, 'onChange' | 'value'> {
  value: string;
  onChange(value: string): void;
}

export function JsonField({ value, onChange, minRows = 3, maxRows = 16, ...props }: JsonFieldProps) {
  return (
    <Textarea
      {...props}
      value={value}
      onChange={(event) => onChange(event.currentTarget.value)}
      autosize
      minRows={minRows}
      maxRows={maxRows}
      spellCheck={false}
      autoComplete="off"
      styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)', fontSize: 'var(--mantine-font-size-xs)' } }}
    />
  );
}
