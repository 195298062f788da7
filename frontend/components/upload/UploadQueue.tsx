"use client";

import { Button } from "@/components/ui";
import { ACTIVE_STATUSES, useUploadStore } from "@/lib/store/uploadStore";
import { UploadDropZone } from "./UploadDropZone";
import { UploadItemRow } from "./UploadItemRow";

/** The upload page's body: the picker/drop zone, this tab's uploads, and their announcements. */
export function UploadQueue() {
  const items = useUploadStore((s) => s.items);
  const announcement = useUploadStore((s) => s.announcement);
  const addFiles = useUploadStore((s) => s.addFiles);
  const clearFinished = useUploadStore((s) => s.clearFinished);
  const finished = items.filter((i) => !ACTIVE_STATUSES.has(i.status)).length;

  return (
    <div className="flex flex-col gap-6">
      <UploadDropZone onFiles={addFiles} />
      <p aria-live="polite" className="sr-only">
        {announcement}
      </p>
      {items.length > 0 && (
        <section aria-labelledby="upload-list-heading" className="flex flex-col gap-3">
          <div className="flex items-center justify-between gap-3">
            <h2 id="upload-list-heading" className="text-lg font-semibold">
              Files
            </h2>
            {finished > 0 && (
              <Button variant="ghost" size="sm" onClick={clearFinished}>
                Clear finished
              </Button>
            )}
          </div>
          <ul className="flex flex-col gap-3">
            {items.map((item) => (
              <UploadItemRow key={item.id} item={item} />
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}
