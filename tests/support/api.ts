/** A logged-in HTTP client for the gateway's JSON API, as a script or the CLI would use it. */
export class ApiClient {
  cookie = '';

  constructor(readonly baseUrl: string) {}

  get origin(): string {
    return new URL(this.baseUrl).origin;
  }

  async login(username: string, password: string): Promise<void> {
    const res = await this.request('POST', '/api/auth/login', { username, password });
    if (res.status !== 200)
      throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  }

  async request(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: any }> {
    const res = await fetch(this.baseUrl + path, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(this.cookie ? { cookie: this.cookie } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const setCookie = res.headers.get('set-cookie');
    if (setCookie) this.cookie = setCookie.split(';')[0]!;
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  /** A client at `baseUrl`, logged in as `username`. */
  static async loggedIn(baseUrl: string, username: string, password: string): Promise<ApiClient> {
    const client = new ApiClient(baseUrl);
    await client.login(username, password);
    return client;
  }

  /** Creates a user (this client being an admin's); answers the new user. */
  async createUser(fields: {
    username: string;
    password: string;
    role?: string;
  }): Promise<{ id: string }> {
    const res = await this.request('POST', '/api/users', fields);
    if (res.status !== 201)
      throw new Error(`create user failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.user;
  }

  async createServer(fields: Record<string, unknown>): Promise<{ id: string; name: string }> {
    const res = await this.request('POST', '/api/servers', fields);
    if (res.status !== 201)
      throw new Error(`create server failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.server;
  }

  async session(id: string): Promise<Record<string, any>> {
    const res = await this.request('GET', `/api/sessions/${id}`);
    if (res.status !== 200)
      throw new Error(`get session failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.session;
  }
}
