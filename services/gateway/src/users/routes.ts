import Router from '@koa/router';
import { z } from 'zod';
import type { PrismaClient, User } from '@sallyport/db';
import { AppError } from '@sallyport/errors';
import { MIN_PASSWORD_LENGTH, hashPassword } from '../auth/passwords.js';
import { auditRequest } from '../http/audit.js';
import type { GatewayState } from '../http/context.js';
import { requireAdmin, requireUser } from '../http/middleware.js';
import { validate } from '../http/validate.js';

const createSchema = z
  .object({
    username: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/,
        'use letters, digits, ".", "_", "@" or "-", starting with a letter or digit',
      ),
    password: z
      .string()
      .min(MIN_PASSWORD_LENGTH, `must be at least ${MIN_PASSWORD_LENGTH} characters`)
      .max(1024),
    role: z.enum(['user', 'admin', 'auditor']).default('user'),
    displayName: z.string().trim().min(1).max(100).optional(),
  })
  .strict();

const listed = (u: User) => ({
  id: u.id,
  username: u.username,
  displayName: u.displayName,
  role: u.role,
});

/** Local users: everyone may list them (to invite someone); admins create them. */
export function userRoutes(deps: { prisma: PrismaClient }): Router<GatewayState> {
  const { prisma } = deps;
  const router = new Router<GatewayState>({ prefix: '/api/users' });

  router.get('/', requireUser, async (ctx) => {
    const users = await prisma.user.findMany({
      where: { disabled: false },
      orderBy: { username: 'asc' },
    });
    ctx.body = { users: users.map(listed) };
  });

  router.post('/', requireAdmin, async (ctx) => {
    const input = validate(createSchema, ctx.request.body);
    const user = await prisma.user
      .create({
        data: {
          username: input.username,
          role: input.role,
          displayName: input.displayName ?? null,
          passwordHash: await hashPassword(input.password),
        },
      })
      .catch((err: unknown) => {
        if ((err as { code?: string }).code === 'P2002')
          throw new AppError('conflict', `a user named "${input.username}" already exists`, {
            field: 'username',
          });
        throw err;
      });
    await auditRequest(prisma, ctx, 'user.create', {
      targetType: 'user',
      targetId: user.id,
      details: { username: user.username, role: user.role },
    });
    ctx.status = 201;
    ctx.body = { user: listed(user) };
  });

  return router;
}
