/** Default time to wait for serve before falling back, in milliseconds. */
export declare const DEFAULT_TIMEOUT_MS: number;
/** Default width of one fallback slot, in milliseconds. */
export declare const DEFAULT_SLOT_MS: number;

export interface StaggerStartOptions {
  /** tollgate serve's reservation URL, e.g. "https://tollgate.example:8787/v1/stagger/reserve". */
  reserveUrl?: string;
  /** The deployment's desktop token (never the admin token). */
  token?: string;
  /** Fallback window in ms: the hashed window from `tollgate stagger plan`. */
  windowMs?: number;
  /** Width of one fallback slot in ms (default 1000). */
  slotMs?: number;
  /** Per-deployment salt of the fallback hash. */
  salt?: string;
  /** How long to wait for serve before falling back, in ms (default 2000). */
  timeoutMs?: number;
  /** Aborts the wait (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
  /** fetch implementation (default globalThis.fetch). */
  fetch?: typeof fetch;
}

export interface StaggerStartResult {
  source: "reserve" | "fallback";
  /** The delay chosen: the reservation's, or the slot's from the call. */
  delayMs: number;
  /** Why the fallback was used. */
  reason?: string;
}

export declare function staggerStart(login: string, options?: StaggerStartOptions): Promise<StaggerStartResult>;
export declare function fnv1a32(str: string, salt?: string): number;
export declare function slotCount(windowMs: number, slotMs?: number): number;
export declare function slotOf(login: string, slots: number, salt?: string): number;
export declare function slotDelayMs(login: string, options?: { windowMs?: number; slotMs?: number; salt?: string }): number;
