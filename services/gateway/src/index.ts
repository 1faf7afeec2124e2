export {
  startGateway,
  createGatewayApp,
  type Gateway,
  type GatewayOptions,
  type GatewayDeps,
} from './app.js';
export { uiDir } from './ui-dir.js';
