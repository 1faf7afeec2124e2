import { hashToken, randomToken } from '@sallyport/crypto';
import { appendAuditEvent, type PrismaClient, type User } from '@sallyport/db';
import { AppError } from '@sallyport/errors';
import type { Logger } from '@sallyport/log';
import { MIN_PASSWORD_LENGTH, hashPassword } from './passwords.js';

const SETUP_LINK_LIFETIME_MS = 24 * 60 * 60 * 1000;
const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/**
 * How a fresh installation gets its first admin. There is no default password: either
 * SALLYPORT_ADMIN_USER/PASSWORD create one at start-up, or a one-time link is printed.
 */
export class Setup {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly log: Logger,
  ) {}

  async isNeeded(): Promise<boolean> {
    return (await this.prisma.user.count()) === 0;
  }

  /** Run at start-up: bootstrap from the environment, or print a setup link if nobody exists. */
  async onStart(options: {
    publicUrl: string;
    adminUser?: string | undefined;
    adminPassword?: string | undefined;
  }): Promise<void> {
    if (!(await this.isNeeded())) return;
    if (options.adminUser && options.adminPassword) {
      const user = await this.createAdmin(options.adminUser, options.adminPassword).catch(
        (err: unknown) => {
          // Another replica starting at the same moment may have created it.
          if ((err as { code?: string }).code === 'P2002') return undefined;
          throw err;
        },
      );
      if (user) {
        await appendAuditEvent(this.prisma, {
          actorName: 'system',
          action: 'setup.admin_from_environment',
          targetType: 'user',
          targetId: user.id,
        });
        this.log.info(
          { username: user.username },
          'created the admin user from SALLYPORT_ADMIN_USER',
        );
      }
      return;
    }
    const token = randomToken();
    await this.prisma.setupToken.create({
      data: {
        tokenHash: hashToken(token),
        expiresAt: new Date(Date.now() + SETUP_LINK_LIFETIME_MS),
      },
    });
    // The token is in the fragment, which browsers never send to a server or a proxy log.
    const link = `${options.publicUrl}/setup#${token}`;
    this.log.info(
      'no users yet: open the setup link to create the first admin (valid for 24 hours, once)',
    );
    process.stdout.write(`\n  Sallyport setup: ${link}\n\n`);
  }

  async createFirstAdmin(token: string, username: string, password: string): Promise<User> {
    const row = await this.prisma.setupToken.findUnique({ where: { tokenHash: hashToken(token) } });
    if (!row || row.usedAt || row.expiresAt.getTime() < Date.now()) {
      throw new AppError(
        'gone',
        'this setup link is invalid, used or expired; restart Sallyport to get a new one',
      );
    }
    if (!(await this.isNeeded())) throw new AppError('gone', 'setup is already done');
    validateAdmin(username, password);
    // Marking the token used first, conditionally, makes two racing requests produce one admin.
    const claimed = await this.prisma.setupToken.updateMany({
      where: { id: row.id, usedAt: null },
      data: { usedAt: new Date() },
    });
    if (claimed.count !== 1) throw new AppError('gone', 'this setup link was just used');
    return this.createAdmin(username, password);
  }

  private async createAdmin(username: string, password: string): Promise<User> {
    validateAdmin(username, password);
    return this.prisma.user.create({
      data: { username, role: 'admin', passwordHash: await hashPassword(password) },
    });
  }
}

function validateAdmin(username: string, password: string): void {
  if (!USERNAME.test(username)) {
    throw new AppError(
      'validation_failed',
      'username: use letters, digits, ".", "_", "@" or "-", starting with a letter or digit',
      { field: 'username' },
    );
  }
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new AppError(
      'validation_failed',
      `password: must be at least ${MIN_PASSWORD_LENGTH} characters`,
      { field: 'password' },
    );
  }
}
