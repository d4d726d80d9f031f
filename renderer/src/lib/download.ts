/** Offers `content` as a file download named `fileName`. */
export function downloadBlob(fileName: string, content: Blob): void {
  const url = URL.createObjectURL(content);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
  // Revoked later: Chromium reads the blob after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function downloadText(fileName: string, text: string, type = 'text/plain'): void {
  downloadBlob(fileName, new Blob([text], { type: `${type};charset=utf-8` }));
}

/** Downloads a run's whole log as text through the HTTP API, which streams it from disk. */
export async function downloadRunLog(runId: string, token: string): Promise<void> {
  const response = await fetch(`/api/runs/${encodeURIComponent(runId)}/log`, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`The log download failed: the hub returned HTTP ${response.status}.`);
  downloadBlob(`run-${runId}.log`, await response.blob());
}
