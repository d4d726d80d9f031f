/**
 * A small line chart of recent values, drawn as SVG so it needs no chart library.
 */
import { useId } from 'react';

export interface SparklineProps {
  values: readonly number[];
  /** Top of the scale; values above it are clipped. */
  max: number;
  width?: number;
  height?: number;
  color?: string;
  label: string;
}

export function Sparkline({ values, max, width = 110, height = 26, color = 'var(--mantine-primary-color-filled)', label }: SparklineProps) {
  const gradient = useId();
  if (values.length < 2) {
    return <svg width={width} height={height} role="img" aria-label={`${label}: not enough samples yet`} />;
  }
  const step = width / (values.length - 1);
  const y = (value: number) => height - 1 - (Math.min(value, max) / max) * (height - 2);
  const line = values.map((value, index) => `${(index * step).toFixed(1)},${y(value).toFixed(1)}`).join(' ');
  const area = `0,${height} ${line} ${width},${height}`;

  return (
    <svg width={width} height={height} role="img" aria-label={label} data-samples={values.length}>
      <defs>
        <linearGradient id={gradient} x1="0" x2="0" y1="0" y2="1">
          <stop offset="0%" stopColor={color} stopOpacity={0.35} />
          <stop offset="100%" stopColor={color} stopOpacity={0} />
        </linearGradient>
      </defs>
      <polygon points={area} fill={`url(#${gradient})`} />
      <polyline points={line} fill="none" stroke={color} strokeWidth={1.5} strokeLinejoin="round" />
    </svg>
  );
}
