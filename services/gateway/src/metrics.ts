import { Counter, Gauge, type Registry } from 'prom-client';

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;

/** The gateway's own metrics, on the process's registry. */
export function createGatewayMetrics(registry: Registry) {
  return {
    websockets: new Gauge({
      name: 'sallyport_gateway_websockets_open',
      help: 'Terminal WebSockets open on this gateway',
      registers: [registry],
    }),
    bytes: new Counter({
      name: 'sallyport_gateway_terminal_bytes_total',
      help: 'Terminal bytes relayed by this gateway; in = from browsers, out = to browsers',
      labelNames: ['direction'] as const,
      registers: [registry],
    }),
    logins: new Counter({
      name: 'sallyport_gateway_logins_total',
      help: 'Login attempts by outcome',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
  };
}
