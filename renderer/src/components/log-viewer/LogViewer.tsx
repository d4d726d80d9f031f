/**
 * A virtualized log: only the visible lines are in the DOM, so a run with a
 * million lines scrolls as smoothly as one with ten. It follows the tail
 * until the user scrolls up, and follows again once they scroll back down.
 */
import { ActionIcon, Badge, Button, Group, SegmentedControl, Text, TextInput, Tooltip } from '@mantine/core';
import { IconArrowDown, IconDownload, IconSearch } from '@tabler/icons-react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { StoredLogLine } from '../../../../electron/hub/model.js';
import { ansiSegments, stripAnsi } from './ansi.js';
import classes from './log-viewer.module.css';

export type StreamFilter = 'all' | 'stdout' | 'stderr' | 'system';

export interface LogViewerProps<L extends StoredLogLine = StoredLogLine> {
  lines: readonly L[];
  /** Changes when `lines` grew; the array itself is appended in place. */
  version: number;
  height?: number | string;
  /** Shown when there are no lines. */
  emptyText?: string;
  onDownload?: () => void;
  /** Extra text before the line, such as the run it belongs to. */
  prefix?: (line: L) => ReactNode;
  /** Extra controls in the toolbar. */
  toolbar?: ReactNode;
}

const ROW_HEIGHT = 20;
/** Distance from the bottom, in pixels, within which the view still counts as following. */
const FOLLOW_SLACK_PX = 24;

function clock(time: number): string {
  const date = new Date(time);
  const pad = (value: number, size = 2) => String(value).padStart(size, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

const LogLine = memo(function LogLine({ line, prefix }: { line: StoredLogLine; prefix?: ReactNode }) {
  return (
    <div className={classes.line} data-stream={line.s}>
      <span className={classes.time}>{clock(line.t)}</span>
      {prefix}
      <span className={classes.message}>
        {ansiSegments(line.m).map((segment, index) => (
          <span key={index} style={{ color: segment.color, background: segment.background, fontWeight: segment.bold ? 700 : undefined }}>
            {segment.text}
          </span>
        ))}
      </span>
    </div>
  );
});

export function LogViewer<L extends StoredLogLine>({ lines, version, height = 480, emptyText = 'No output yet.', onDownload, prefix, toolbar }: LogViewerProps<L>) {
  const scroller = useRef<HTMLDivElement>(null);
  const [follow, setFollow] = useState(true);
  const [query, setQuery] = useState('');
  const [stream, setStream] = useState<StreamFilter>('all');
  const filtering = query !== '' || stream !== 'all';

  // Without a filter the lines array is used as is; a filter makes a copy, recomputed as lines arrive.
  const visible = useMemo(() => {
    if (!filtering) return lines;
    const needle = query.toLowerCase();
    return lines.filter((line) => (stream === 'all' || line.s === stream) && (needle === '' || stripAnsi(line.m).toLowerCase().includes(needle)));
    // `version` stands for the in-place growth of `lines`.
  }, [lines, version, query, stream, filtering]);

  const virtualizer = useVirtualizer({ count: visible.length, getScrollElement: () => scroller.current, estimateSize: () => ROW_HEIGHT, overscan: 30 });

  useEffect(() => {
    if (follow && visible.length > 0) virtualizer.scrollToIndex(visible.length - 1, { align: 'end' });
  }, [follow, visible.length, version, virtualizer]);

  const onScroll = () => {
    const element = scroller.current;
    if (!element) return;
    const atBottom = element.scrollHeight - element.scrollTop - element.clientHeight <= FOLLOW_SLACK_PX;
    if (atBottom !== follow) setFollow(atBottom);
  };

  return (
    <div className={classes.viewer} data-following={follow}>
      <Group className={classes.toolbar} gap="xs" justify="space-between" wrap="nowrap">
        <Group gap="xs" wrap="nowrap">
          <TextInput size="xs" aria-label="Search the log" placeholder="Search" leftSection={<IconSearch size={14} />} value={query} onChange={(event) => setQuery(event.currentTarget.value)} w={220} />
          <SegmentedControl size="xs" aria-label="Streams" value={stream} onChange={(value) => setStream(value as StreamFilter)} data={['all', 'stdout', 'stderr', 'system']} />
          {toolbar}
        </Group>
        <Group gap="xs" wrap="nowrap">
          <Text size="xs" c="dimmed" data-testid="log-count">
            {filtering ? `${visible.length} of ${lines.length} lines` : `${lines.length} lines`}
          </Text>
          {onDownload && (
            <Tooltip label="Download the whole log">
              <ActionIcon size="sm" variant="default" aria-label="Download log" onClick={onDownload}>
                <IconDownload size={14} />
              </ActionIcon>
            </Tooltip>
          )}
        </Group>
      </Group>
      <div ref={scroller} className={classes.scroller} style={{ height }} onScroll={onScroll} role="log" aria-label="Log lines" aria-live="off">
        {visible.length === 0 ? (
          <Text size="sm" c="dimmed" p="md">{filtering ? 'No line matches.' : emptyText}</Text>
        ) : (
          <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
            {virtualizer.getVirtualItems().map((item) => {
              const line = visible[item.index];
              if (!line) return null;
              return (
                <div key={item.key} className={classes.row} style={{ transform: `translateY(${item.start}px)` }}>
                  <LogLine line={line} prefix={prefix?.(line)} />
                </div>
              );
            })}
          </div>
        )}
      </div>
      {!follow && (
        <Button size="xs" radius="xl" className={classes.jump} leftSection={<IconArrowDown size={14} />} onClick={() => setFollow(true)}>
          Follow the tail
        </Button>
      )}
      {filtering && <Badge className={classes.filterBadge} size="xs" variant="light">filtered</Badge>}
    </div>
  );
}
