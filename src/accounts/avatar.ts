// Where a user's avatar lives. The image itself is made locally and deterministically
// from the user (no outside service); see the avatar route.
export interface AvatarSubject {
  username: string;
}

export function avatarUrl(user: AvatarSubject): string {
  return `/avatars/${encodeURIComponent(user.username)}.svg`;
}
