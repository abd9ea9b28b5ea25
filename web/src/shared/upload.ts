import type { UploadGrant, UploadRequest } from '@gpc/contracts';
import { ApiError } from './api';

/** PUTs a file straight to storage with a presigned URL, reporting progress (fetch cannot report upload progress). */
export function putWithProgress(
  url: string,
  file: File,
  headers: Record<string, string>,
  progress: HTMLProgressElement,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('PUT', url);
    for (const [name, value] of Object.entries(headers)) request.setRequestHeader(name, value);
    request.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) progress.value = event.loaded / event.total;
    });
    request.addEventListener('load', () =>
      request.status < 300 ? resolve() : reject(new Error(`upload failed (${request.status})`)),
    );
    request.addEventListener('error', () => reject(new Error('upload failed')));
    request.send(file);
  });
}

/** Asks for permission to upload one file; a refusal means the API does not take its type or size. */
async function grantFor(
  file: File,
  grant: (request: UploadRequest) => Promise<UploadGrant>,
): Promise<UploadGrant> {
  try {
    // the API checks the type against the contract's list; the browser's word for it is all we have
    return await grant({ contentType: file.type as UploadRequest['contentType'], size: file.size });
  } catch (error) {
    throw error instanceof ApiError ? new Error('This type or size of file cannot be sent') : error;
  }
}

/**
 * Uploads the chosen files one by one: asks `grant` for permission (a presigned PUT), sends each
 * with a progress bar in `list`, and reports each stored key. Failures are shown beside the file.
 */
export function uploadFiles(
  files: File[],
  list: HTMLElement,
  grant: (request: UploadRequest) => Promise<UploadGrant>,
  onUploaded: (key: string, name: string) => void,
): void {
  for (const file of files) {
    const item = document.createElement('li');
    item.textContent = `${file.name}: `;
    const progress = document.createElement('progress');
    progress.max = 1;
    progress.value = 0;
    progress.setAttribute('aria-label', `Uploading ${file.name}`);
    item.append(progress);
    list.append(item);
    void (async () => {
      try {
        const { key, url, headers } = await grantFor(file, grant);
        await putWithProgress(url, file, headers, progress);
        onUploaded(key, file.name);
        item.textContent = `${file.name}: uploaded`;
      } catch (error) {
        item.textContent = `${file.name}: not uploaded. ${error instanceof Error ? error.message : ''}`;
      }
    })();
  }
}
