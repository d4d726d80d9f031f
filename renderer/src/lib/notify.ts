/**
 * Toasts for the outcome of an action. Expected failures are shown with the hub's own message.
 */
import { notifications } from '@mantine/notifications';

export function notifyError(title: string, error: unknown): void {
  // HubRequestError messages are the hub's own sentences, fit to show as they are.
  const message = error instanceof Error ? error.message : String(error);
  notifications.show({ color: 'red', title, message, autoClose: 8000 });
}

export function notifyDone(message: string): void {
  notifications.show({ color: 'farm', message, autoClose: 3000 });
}
