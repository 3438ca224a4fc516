// A path on the host that a client names (an ISO, a disk image, a kernel, an appliance, an export
// target). Node's fs refuses a NUL with ERR_INVALID_ARG_VALUE, which would surface as Vireo's own
// bug, and a newline or ESC in a path is never what a person meant: both are refused here, before
// any fs call, in words that show where the character is.
import { z } from 'zod'
import { controlCharIn, quoted } from './visible-text.ts'

/** Linux's PATH_MAX; longer paths fail in the kernel anyway. */
export const MAX_PATH_LENGTH = 4096

export const UserPath = z
  .string()
  .min(1, 'a path cannot be empty; give the full path of the file')
  .max(MAX_PATH_LENGTH, `a path is at most ${MAX_PATH_LENGTH} characters`)
  .superRefine((p, ctx) => {
    const bad = controlCharIn(p)
    if (bad)
      ctx.addIssue({
        code: 'custom',
        message: `the path ${quoted(p)} holds the control character ${bad}; give the path of a file whose name has none`,
      })
  })
