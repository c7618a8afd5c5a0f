/**
 * The app-wide declaration of the session types, as an app writes it once (its own program: the
 * declaration applies to everything it compiles, so it cannot share the repository's tsconfig).
 */
import type {} from 'sessionkit';

declare module 'sessionkit' {
  interface SessionkitTypes {
    data: {
      userId?: string;
      email?: string;
      role?: string;
      permissions?: string[];
      count: number;
      cart: { items: string[] };
    };
    flash: { notice: string; error: string };
  }
}
