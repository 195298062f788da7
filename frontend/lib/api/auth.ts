// The auth and account calls, typed from the generated schema. Pages call these; the token
// handling itself stays in lib/axios.
import { api } from "@/lib/axios";
import { announceSignOut, useAuthStore } from "@/lib/store/authStore";
import type {
  ChangePasswordRequest,
  LoginRequest,
  Providers,
  RegisterRequest,
  ResetPasswordRequest,
  Session,
  UpdateMeRequest,
  User,
  UserResponse,
} from "./types";

/** Signs in and keeps the session in memory. */
export async function login(body: LoginRequest): Promise<Session> {
  const { data } = await api.post<Session>("/auth/login", body);
  useAuthStore.getState().setSession(data);
  return data;
}

export async function register(body: RegisterRequest): Promise<void> {
  await api.post("/auth/register", body);
}

export async function verifyEmail(token: string): Promise<User> {
  const { data } = await api.post<UserResponse>("/auth/verify-email", { token });
  return data.user;
}

export async function resendVerification(email: string): Promise<void> {
  await api.post("/auth/resend-verification", { email });
}

export async function forgotPassword(email: string): Promise<void> {
  await api.post("/auth/password/forgot", { email });
}

export async function resetPassword(body: ResetPasswordRequest): Promise<void> {
  await api.post("/auth/password/reset", body);
}

export async function changePassword(body: ChangePasswordRequest): Promise<void> {
  await api.post("/auth/password/change", body);
}

/** Exchanges the one-time code of Google sign-in for a session. */
export async function setupSession(code: string): Promise<Session> {
  const { data } = await api.post<Session>("/auth/setup-session", { code });
  useAuthStore.getState().setSession(data);
  return data;
}

export async function updateMe(body: UpdateMeRequest): Promise<User> {
  const { data } = await api.patch<UserResponse>("/users/me", body);
  useAuthStore.getState().setUser(data.user);
  return data.user;
}

/** Ends this session on the server (clears the cookies), then forgets it here, whatever the server said. */
export async function logout(): Promise<void> {
  try {
    await api.post("/auth/logout");
  } finally {
    useAuthStore.getState().signOutLocal({ byUser: true });
    announceSignOut();
  }
}

/** Ends every session of the account, this one included. */
export async function logoutEverywhere(): Promise<void> {
  await api.post("/auth/logout-all");
  // The refresh cookie is dead now; logout clears it from this browser.
  await logout().catch(() => undefined);
}

let providers: Promise<Providers> | null = null;

/** Which sign-in methods the backend offers; asked once per page load. A failure means password only. */
export function getProviders(): Promise<Providers> {
  providers ??= api
    .get<Providers>("/auth/providers")
    .then((r) => ({ password: true, google: r.data.google === true }))
    .catch(() => ({ password: true, google: false }));
  return providers;
}
