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

/**
 * Uploads the chosen files one by one: asks `grant` for permission (a presigned PUT), sends each
 * with a progress bar in `list`, and reports each stored key. Failures are shown beside the file.
 */
export function uploadFiles(
  files: File[],
  list: HTMLElement,
  grant: (file: File) => Promise<Response>,
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
        const response = await grant(file);
        if (!response.ok) throw new Error('This type or size of file cannot be sent');
        const { key, url, headers } = (await response.json()) as {
          key: string;
          url: string;
          headers: Record<string, string>;
        };
        await putWithProgress(url, file, headers, progress);
        onUploaded(key, file.name);
        item.textContent = `${file.name}: uploaded`;
      } catch (error) {
        item.textContent = `${file.name}: not uploaded. ${error instanceof Error ? error.message : ''}`;
      }
    })();
  }
}
