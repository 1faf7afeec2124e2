// Turns what the user dropped or picked into files with their paths relative to the drop, so
// a dropped folder is uploaded as the same tree.

export interface PickedFile {
  /** "photos/2024/a.jpg" for a file inside a dropped folder, "a.jpg" for a loose one. */
  relativePath: string;
  file: File;
}

/** Files from an <input type=file>, with or without `webkitdirectory`. */
export function fromInput(input: HTMLInputElement): PickedFile[] {
  return Array.from(input.files ?? [], (file) => ({
    relativePath: file.webkitRelativePath || file.name,
    file,
  }));
}

/** Files from a drop, walking dropped folders. */
export async function fromDrop(transfer: DataTransfer): Promise<PickedFile[]> {
  // Entries must be taken synchronously, before the event handler returns.
  const entries = Array.from(transfer.items)
    .map((item) => item.webkitGetAsEntry())
    .filter((e): e is FileSystemEntry => e !== null);
  if (entries.length === 0)
    return Array.from(transfer.files, (file) => ({ relativePath: file.name, file }));
  const found: PickedFile[] = [];
  for (const entry of entries) await walk(entry, '', found);
  return found;
}

async function walk(entry: FileSystemEntry, prefix: string, found: PickedFile[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) =>
      (entry as FileSystemFileEntry).file(resolve, reject),
    );
    found.push({ relativePath: prefix + entry.name, file });
    return;
  }
  if (!entry.isDirectory) return;
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  // readEntries answers in batches; an empty batch means the folder is done.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) =>
      reader.readEntries(resolve, reject),
    );
    if (batch.length === 0) break;
    for (const child of batch) await walk(child, `${prefix}${entry.name}/`, found);
  }
  // An empty folder is uploaded too: record it as a path with no file.
  if (!found.some((f) => f.relativePath.startsWith(`${prefix}${entry.name}/`)))
    found.push({ relativePath: `${prefix}${entry.name}/`, file: new File([], '') });
}

/** Every folder the files need, parents first ("a", "a/b" for "a/b/c.txt"). */
export function foldersOf(files: readonly PickedFile[]): string[] {
  const folders = new Set<string>();
  for (const { relativePath } of files) {
    const parts = relativePath.split('/');
    for (let i = 1; i < parts.length; i++) {
      const folder = parts.slice(0, i).join('/');
      if (folder) folders.add(folder);
    }
  }
  return [...folders].sort((a, b) => a.split('/').length - b.split('/').length);
}
