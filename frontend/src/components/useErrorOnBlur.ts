import { useState } from 'react';

/**
 * An input's error as a user should meet it: not while they type (the "1"
 * on the way to "1d" is no mistake), but once they leave the field, and at
 * once for a value saved earlier.
 */
export function useErrorOnBlur(error: string | undefined) {
  const [typing, setTyping] = useState(false);
  return {
    error: typing ? undefined : error,
    onTyping: () => setTyping(true),
    onBlur: () => setTyping(false),
  };
}
