import { filesKey, type StateLocation } from '../../actions/deploy-static/state.js';

type StoredFile = { etag: string; snap?: string };

/**
 * The releases of a record head as stored in a bucket, each with its files read from its
 * content-addressed file list (`files` undefined when that object is missing or not JSON).
 * A version 2 record keeps the files inline: they are returned as they are.
 */
export function storedReleases(
  head: { releases?: { id: string; files: unknown }[] } | undefined,
  read: (key: string) => string | undefined,
  state: StateLocation,
): { id: string; files: Record<string, StoredFile> | undefined }[] {
  return (head?.releases ?? []).map((r) => {
    const ref = r.files as { sha256?: unknown };
    if (typeof ref?.sha256 !== 'string') return { id: r.id, files: r.files as Record<string, StoredFile> };
    const body = read(filesKey(state, ref.sha256));
    try {
      return { id: r.id, files: body === undefined ? undefined : (JSON.parse(body) as { files: Record<string, StoredFile> }).files };
    } catch {
      return { id: r.id, files: undefined };
    }
  });
}
