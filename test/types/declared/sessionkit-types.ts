// src/sessionkit-types.ts: the app's session types, declared once for every helper.
// (A module: it imports `sessionkit`, so this augments the package's SessionkitTypes.)
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
