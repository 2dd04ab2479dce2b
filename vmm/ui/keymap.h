/* Host key identities -> PS/2 scancode set 2 byte sequences.
 *
 * Two front ends: X keysyms (what VNC clients send) and QEMU's key names
 * (what `sendkey` takes, e.g. "ctrl-alt-delete").  A key is a code: the
 * set-2 make byte, | KEY_EXT for 0xE0-prefixed keys, or one of the two
 * keys with special sequences (Print Screen, Pause). */
#ifndef MINUS1_KEYMAP_H
#define MINUS1_KEYMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEY_EXT 0x100
#define KEY_PRINT 0x200
#define KEY_PAUSE 0x201
#define KEY_NONE 0

/* The key a keysym is on (shifted symbols map to their unshifted key:
 * the client sends Shift separately).  KEY_NONE when unknown. */
unsigned keymap_from_keysym(uint32_t keysym);
/* A QEMU key name ("ret", "a", "f12", "ctrl", "kp_add"...).  KEY_NONE
 * when unknown. */
unsigned keymap_from_name(const char *name);

/* Appends the make (down) or break sequence of key to out; returns the
 * number of bytes (at most KEYMAP_MAX_SEQ), 0 for KEY_NONE or for the
 * break of Pause (it has none). */
#define KEYMAP_MAX_SEQ 8
size_t keymap_sequence(unsigned key, bool down, uint8_t *out);

/* "ctrl-alt-delete" -> press ctrl, alt, delete, then release in reverse
 * order.  Returns the number of bytes written, or -1 (with the offending
 * name copied into bad, if given) for an unknown key or too long a combo. */
#define SENDKEY_MAX_KEYS 8
int keymap_sendkey(const char *combo, uint8_t *out, size_t outlen, char *bad, size_t badlen);

#endif
