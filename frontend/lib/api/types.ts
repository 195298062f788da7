// Named API types, all aliases of the schema generated from openapi.yaml
// (lib/api/schema.ts, `npm run gen:api`): never copy a shape by hand here.
import type { components, paths } from "./schema";

type Schemas = components["schemas"];

export type Video = Schemas["Video"];
export type VideoStatus = Video["status"];
export type User = Schemas["User"];
export type Upload = Schemas["Upload"];
export type ImportAccepted = Schemas["ImportAccepted"];
export type ImportProgress = Schemas["ImportProgress"];
export type ImportStatus = ImportProgress["status"];
export type Session = Schemas["Session"];
/** The probe and poster of a ready video; null before the video is ready. */
export type ProcessingStatus = NonNullable<Video["processing_status"]>;
export type Clip = Schemas["Clip"];
export type ClipStatus = Clip["status"];
export type ClipAspect = Clip["aspect"];
export type ApiErrorBody = Schemas["Error"];
export type SocialPlatform = Schemas["SocialPlatform"];
export type SocialAccount = Schemas["SocialAccount"];
export type SocialAccountStatus = SocialAccount["status"];

type JsonOf<R> = R extends { content: { "application/json": infer B } } ? B : never;

/** GET /api/videos: one page of the user's videos. */
export type VideoPage = JsonOf<paths["/api/videos"]["get"]["responses"][200]>;
/** Bodies of the routes that answer `{video}` or `{user}`. */
export type VideoResponse = JsonOf<components["responses"]["Video"]>;
export type UserResponse = JsonOf<components["responses"]["User"]>;
/** POST /api/videos/{id}/clips (202) and GET /api/clips/{id}: `{clip}`. */
export type ClipResponse = JsonOf<components["responses"]["Clip"]>;
/** GET /api/videos/{id}/clips. */
export type ClipList = JsonOf<paths["/api/videos/{id}/clips"]["get"]["responses"][200]>;

/** GET /api/social-accounts/platforms, GET /api/social-accounts, POST /api/social-accounts/{platform}/connect. */
export type PlatformList = JsonOf<paths["/api/social-accounts/platforms"]["get"]["responses"][200]>;
export type SocialAccountList = JsonOf<paths["/api/social-accounts"]["get"]["responses"][200]>;
export type ConnectStart = JsonOf<paths["/api/social-accounts/{platform}/connect"]["post"]["responses"][200]>;

/** Request bodies, as the API declares them. */
type RequestJson<Op> = Op extends { requestBody?: { content: { "application/json": infer B } } } ? B : never;
export type RegisterRequest = RequestJson<paths["/api/auth/register"]["post"]>;
export type LoginRequest = RequestJson<paths["/api/auth/login"]["post"]>;
export type ResetPasswordRequest = RequestJson<paths["/api/auth/password/reset"]["post"]>;
export type ChangePasswordRequest = RequestJson<paths["/api/auth/password/change"]["post"]>;
export type UpdateMeRequest = RequestJson<paths["/api/users/me"]["patch"]>;
export type CreateUploadRequest = RequestJson<paths["/api/uploads"]["post"]>;
export type CreateImportRequest = RequestJson<paths["/api/imports"]["post"]>;
export type CreateClipRequest = RequestJson<paths["/api/videos/{id}/clips"]["post"]>;

/**
 * GET /api/auth/providers: which ways of signing in the backend offers. Taken from the generated
 * schema once the route is in openapi.yaml; until then the documented shape.
 */
export type Providers = "/api/auth/providers" extends keyof paths
  ? JsonOf<ProvidersResponse<paths>>
  : { password: boolean; google: boolean };
type ProvidersResponse<P> = P extends { "/api/auth/providers": { get: { responses: { 200: infer R } } } } ? R : never;

/** Posts (issue 12). */
export type Post = Schemas["Post"];
export type PostStatus = Post["status"];
export type PostPrivacy = Post["privacy"];
/** GET /api/posts/{id}, POST /api/posts (201), POST /api/posts/{id}/cancel: `{post}`. */
export type PostResponse = JsonOf<components["responses"]["Post"]>;
/** GET /api/posts: one page of one status, newest first. */
export type PostPage = JsonOf<paths["/api/posts"]["get"]["responses"][200]>;
/** POST /api/posts as declared. */
type CreatePostBody = RequestJson<paths["/api/posts"]["post"]>;
/**
 * POST /api/posts as the form sends it: narrower than declared (exactly one of a video and a clip,
 * every field given); no `scheduled_at` = now.
 */
export type CreatePostRequest = ({ video_id: string; clip_id?: never } | { clip_id: string; video_id?: never }) &
  Required<Pick<CreatePostBody, "social_account_id" | "title" | "caption" | "privacy">> &
  Pick<CreatePostBody, "scheduled_at">;
/** Compile-time check: every request the form builds is one the API declares. */
export type CreatePostFitsApi = Assert<CreatePostRequest extends CreatePostBody ? true : false>;
type Assert<T extends true> = T;
