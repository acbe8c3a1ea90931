/** Messages between the suite and a function's execution environment (runtime/child.ts). */

export type ParentMessage = { readonly type: 'invoke'; readonly id: string; readonly event: unknown; readonly timeoutMs: number };

export type ChildMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'init-error'; readonly error: { readonly name: string; readonly message: string } }
  | { readonly type: 'result'; readonly id: string; readonly result: unknown }
  | { readonly type: 'error'; readonly id: string; readonly error: { readonly name: string; readonly message: string } };

/** Written by the child on stdout and stderr after each invocation (and after init). */
export const END_OF_INVOCATION = '\u0000end-of-invocation:';
