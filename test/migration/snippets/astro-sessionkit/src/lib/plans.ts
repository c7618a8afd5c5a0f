// Test stand-in for an app module (not part of the migration guide).
const premiumPlans = new Set(['premium', 'enterprise']);

export const plans = {
  isPremium: (plan: unknown): boolean => typeof plan === 'string' && premiumPlans.has(plan),
};
