/**
 * Changes to the hub's settings. A patch names only the settings it changes;
 * the ranges are those of the stored settings schema.
 */
import { z } from 'zod';
import { settingsSchema } from './store/schema.js';

const fields = settingsSchema.shape;

export const settingsPatchSchema = z.strictObject({
  retentionDays: fields.retentionDays.removeDefault().optional(),
  retentionPerJob: fields.retentionPerJob.removeDefault().optional(),
  agentGraceSec: fields.agentGraceSec.removeDefault().optional(),
});
export type SettingsPatch = z.infer<typeof settingsPatchSchema>;
