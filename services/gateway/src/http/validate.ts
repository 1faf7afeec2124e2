import type { z } from 'zod';
import { AppError } from '@sallyport/errors';

/** Parses a request value, or fails with a 400 that names the first bad field. */
export function validate<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.join('.') || 'body';
  throw new AppError('validation_failed', `${field}: ${issue.message}`, { field });
}
