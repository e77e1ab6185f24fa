// Who is calling, as every service sees it.
export const ROLES = ['agent', 'expert', 'supervisor', 'ops', 'service'] as const;
export type Role = (typeof ROLES)[number];

export interface Caller {
  id: string;
  role: Role;
}
