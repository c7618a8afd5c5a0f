/** Builds the demo once for every e2e test file (each file serves it on its own port). */
import { buildDemo } from './support/demo.ts';

export default function setup(): void {
  buildDemo();
}
