import { hash, verify } from '@node-rs/argon2';

// OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane).
// `algorithm: 2` is Algorithm.Argon2id (a const enum, which isolated modules cannot import).
const PARAMS = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const MIN_PASSWORD_LENGTH = 12;

export const hashPassword = (password: string): Promise<string> => hash(password, PARAMS);

// Verified when the user does not exist, so an unknown username costs the same time as a
// wrong password and response timing does not reveal which usernames exist.
const dummyHash = hashPassword('sallyport-timing-equaliser');

/** True only for an existing hash that matches; takes the same time either way. */
export async function checkPassword(
  password: string,
  passwordHash: string | null | undefined,
  verifier: (hash: string, password: string) => Promise<boolean> = verify,
): Promise<boolean> {
  const target = passwordHash ?? (await dummyHash);
  let ok = false;
  try {
    ok = await verifier(target, password);
  } catch {
    ok = false;
  }
  return ok && passwordHash != null;
}
