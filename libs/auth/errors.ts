export class AuthError extends Error {
  constructor(
    readonly kind: 'unauthenticated' | 'permission_denied',
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}
