import type { PrismaClient, Recording, User } from '@sallyport/db';
import { AppError } from '@sallyport/errors';
import { isUuid } from '../http/ids.js';

/** Admins and auditors see every recording; everyone else those of their own sessions. */
export const seesAllRecordings = (user: User): boolean =>
  user.role === 'admin' || user.role === 'auditor';

/** A recording `user` may see; anyone else gets the same 404 as for a missing id. */
export async function visibleRecording(
  prisma: PrismaClient,
  id: string,
  user: User,
): Promise<Recording> {
  const recording = isUuid(id) ? await prisma.recording.findUnique({ where: { id } }) : null;
  if (!recording || (recording.userId !== user.id && !seesAllRecordings(user)))
    throw new AppError('not_found', 'recording not found');
  return recording;
}
