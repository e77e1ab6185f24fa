// Who is calling, as every service sees it.
// privacy: the data-protection officer, who exports and erases a customer's data and nothing else.
export const ROLES = ['agent', 'expert', 'supervisor', 'ops', 'privacy', 'service'] as const;
export type Role = (typeof ROLES)[number];

export interface Caller {
  id: string;
  role: Role;
}
