/**
 * The schedule in words and its next fire times in the job's time zone,
 * as the hub computes them (`schedule.preview`).
 */
import { List, Text, ThemeIcon } from '@mantine/core';
import { IconClock } from '@tabler/icons-react';
import { formatDateTime, formatRelative } from '../../lib/format.js';

export function SchedulePreview({ description, fireTimes, timezone, now }: { description: string | null; fireTimes: string[]; timezone: string; now: number }) {
  return (
    <div>
      {description && (
        <Text size="sm" fw={500} mb="xs" data-testid="cron-description">
          {description}
        </Text>
      )}
      {fireTimes.length > 0 && (
        <List
          size="sm"
          spacing={2}
          aria-label="Next fire times"
          icon={
            <ThemeIcon size={16} radius="xl" variant="light">
              <IconClock size={11} />
            </ThemeIcon>
          }
        >
          {fireTimes.map((time) => (
            <List.Item key={time}>
              {formatDateTime(time, timezone)}{' '}
              <Text span size="xs" c="dimmed">
                ({formatRelative(Date.parse(time), now)})
              </Text>
            </List.Item>
          ))}
        </List>
      )}
    </div>
  );
}
