/* Key tables: X keysyms and QEMU key names -> PS/2 set 2 (US layout,
 * as the guest's keyboard driver expects by default). */
#include "keymap.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

struct named { const char *name; unsigned key; };

/* QEMU's sendkey names (qapi QKeyCode), the common subset. */
static const struct named names[] = {
    { "esc", 0x76 }, { "1", 0x16 }, { "2", 0x1E }, { "3", 0x26 }, { "4", 0x25 },
    { "5", 0x2E }, { "6", 0x36 }, { "7", 0x3D }, { "8", 0x3E }, { "9", 0x46 },
    { "0", 0x45 }, { "minus", 0x4E }, { "equal", 0x55 }, { "backspace", 0x66 },
    { "tab", 0x0D }, { "q", 0x15 }, { "w", 0x1D }, { "e", 0x24 }, { "r", 0x2D },
    { "t", 0x2C }, { "y", 0x35 }, { "u", 0x3C }, { "i", 0x43 }, { "o", 0x44 },
    { "p", 0x4D }, { "bracket_left", 0x54 }, { "bracket_right", 0x5B }, { "ret", 0x5A },
    { "ctrl", 0x14 }, { "a", 0x1C }, { "s", 0x1B }, { "d", 0x23 }, { "f", 0x2B },
    { "g", 0x34 }, { "h", 0x33 }, { "j", 0x3B }, { "k", 0x42 }, { "l", 0x4B },
    { "semicolon", 0x4C }, { "apostrophe", 0x52 }, { "grave_accent", 0x0E },
    { "shift", 0x12 }, { "backslash", 0x5D }, { "z", 0x1A }, { "x", 0x22 }, { "c", 0x21 },
    { "v", 0x2A }, { "b", 0x32 }, { "n", 0x31 }, { "m", 0x3A }, { "comma", 0x41 },
    { "dot", 0x49 }, { "slash", 0x4A }, { "shift_r", 0x59 }, { "asterisk", 0x7C },
    { "kp_multiply", 0x7C }, { "alt", 0x11 }, { "spc", 0x29 }, { "caps_lock", 0x58 },
    { "f1", 0x05 }, { "f2", 0x06 }, { "f3", 0x04 }, { "f4", 0x0C }, { "f5", 0x03 },
    { "f6", 0x0B }, { "f7", 0x83 }, { "f8", 0x0A }, { "f9", 0x01 }, { "f10", 0x09 },
    { "f11", 0x78 }, { "f12", 0x07 }, { "num_lock", 0x77 }, { "scroll_lock", 0x7E },
    { "kp_divide", KEY_EXT | 0x4A }, { "kp_subtract", 0x7B }, { "kp_add", 0x79 },
    { "kp_enter", KEY_EXT | 0x5A }, { "kp_decimal", 0x71 }, { "kp_0", 0x70 },
    { "kp_1", 0x69 }, { "kp_2", 0x72 }, { "kp_3", 0x7A }, { "kp_4", 0x6B }, { "kp_5", 0x73 },
    { "kp_6", 0x74 }, { "kp_7", 0x6C }, { "kp_8", 0x75 }, { "kp_9", 0x7D }, { "less", 0x61 },
    { "ctrl_r", KEY_EXT | 0x14 }, { "alt_r", KEY_EXT | 0x11 }, { "altgr", KEY_EXT | 0x11 },
    { "altgr_r", KEY_EXT | 0x11 }, { "home", KEY_EXT | 0x6C }, { "up", KEY_EXT | 0x75 },
    { "pgup", KEY_EXT | 0x7D }, { "left", KEY_EXT | 0x6B }, { "right", KEY_EXT | 0x74 },
    { "end", KEY_EXT | 0x69 }, { "down", KEY_EXT | 0x72 }, { "pgdn", KEY_EXT | 0x7A },
    { "insert", KEY_EXT | 0x70 }, { "delete", KEY_EXT | 0x71 }, { "meta_l", KEY_EXT | 0x1F },
    { "meta_r", KEY_EXT | 0x27 }, { "menu", KEY_EXT | 0x2F }, { "print", KEY_PRINT },
    { "sysrq", KEY_PRINT }, { "pause", KEY_PAUSE },
};

unsigned keymap_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcasecmp(names[i].name, name))
            return names[i].key;
    return KEY_NONE;
}

/* Printable ASCII keysyms (0x20-0x7E) -> key, US layout.  Shifted symbols
 * share their key with the unshifted one. */
static unsigned ascii_key(unsigned c)
{
    static const char *const rows[][2] = {
        { "`1234567890-=", "~!@#$%^&*()_+" },
        { "qwertyuiop[]\\", "QWERTYUIOP{}|" },
        { "asdfghjkl;'", "ASDFGHJKL:\"" },
        { "zxcvbnm,./", "ZXCVBNM<>?" },
    };
    static const uint8_t codes[4][13] = {
        { 0x0E, 0x16, 0x1E, 0x26, 0x25, 0x2E, 0x36, 0x3D, 0x3E, 0x46, 0x45, 0x4E, 0x55 },
        { 0x15, 0x1D, 0x24, 0x2D, 0x2C, 0x35, 0x3C, 0x43, 0x44, 0x4D, 0x54, 0x5B, 0x5D },
        { 0x1C, 0x1B, 0x23, 0x2B, 0x34, 0x33, 0x3B, 0x42, 0x4B, 0x4C, 0x52 },
        { 0x1A, 0x22, 0x21, 0x2A, 0x32, 0x31, 0x3A, 0x41, 0x49, 0x4A },
    };
    if (c == ' ')
        return 0x29;
    for (unsigned r = 0; r < 4; r++)
        for (unsigned s = 0; s < 2; s++) {
            const char *p = c ? strchr(rows[r][s], (int)c) : NULL;
            if (p)
                return codes[r][p - rows[r][s]];
        }
    return KEY_NONE;
}

/* Keysyms from X11/keysymdef.h (the values are fixed by the protocol). */
static const struct { uint32_t sym; unsigned key; } syms[] = {
    { 0xff08, 0x66 },               /* BackSpace */
    { 0xff09, 0x0D },               /* Tab */
    { 0xfe20, 0x0D },               /* ISO_Left_Tab (shift-tab) */
    { 0xff0d, 0x5A },               /* Return */
    { 0xff13, KEY_PAUSE },          /* Pause */
    { 0xff14, 0x7E },               /* Scroll_Lock */
    { 0xff15, KEY_PRINT },          /* Sys_Req */
    { 0xff1b, 0x76 },               /* Escape */
    { 0xff50, KEY_EXT | 0x6C },     /* Home */
    { 0xff51, KEY_EXT | 0x6B },     /* Left */
    { 0xff52, KEY_EXT | 0x75 },     /* Up */
    { 0xff53, KEY_EXT | 0x74 },     /* Right */
    { 0xff54, KEY_EXT | 0x72 },     /* Down */
    { 0xff55, KEY_EXT | 0x7D },     /* Prior */
    { 0xff56, KEY_EXT | 0x7A },     /* Next */
    { 0xff57, KEY_EXT | 0x69 },     /* End */
    { 0xff61, KEY_PRINT },          /* Print */
    { 0xff63, KEY_EXT | 0x70 },     /* Insert */
    { 0xff67, KEY_EXT | 0x2F },     /* Menu */
    { 0xff7f, 0x77 },               /* Num_Lock */
    { 0xff8d, KEY_EXT | 0x5A },     /* KP_Enter */
    { 0xff95, 0x6C }, { 0xff96, 0x6B }, { 0xff97, 0x75 }, { 0xff98, 0x74 },
    { 0xff99, 0x72 }, { 0xff9a, 0x7D }, { 0xff9b, 0x7A }, { 0xff9c, 0x69 },
    { 0xff9d, 0x73 }, { 0xff9e, 0x70 }, { 0xff9f, 0x71 },       /* KP_Home..KP_Delete */
    { 0xffaa, 0x7C }, { 0xffab, 0x79 }, { 0xffad, 0x7B }, { 0xffae, 0x71 },
    { 0xffaf, KEY_EXT | 0x4A },     /* KP_Divide */
    { 0xffb0, 0x70 }, { 0xffb1, 0x69 }, { 0xffb2, 0x72 }, { 0xffb3, 0x7A },
    { 0xffb4, 0x6B }, { 0xffb5, 0x73 }, { 0xffb6, 0x74 }, { 0xffb7, 0x6C },
    { 0xffb8, 0x75 }, { 0xffb9, 0x7D },                        /* KP_0..KP_9 */
    { 0xffbe, 0x05 }, { 0xffbf, 0x06 }, { 0xffc0, 0x04 }, { 0xffc1, 0x0C },
    { 0xffc2, 0x03 }, { 0xffc3, 0x0B }, { 0xffc4, 0x83 }, { 0xffc5, 0x0A },
    { 0xffc6, 0x01 }, { 0xffc7, 0x09 }, { 0xffc8, 0x78 }, { 0xffc9, 0x07 },  /* F1..F12 */
    { 0xffe1, 0x12 },               /* Shift_L */
    { 0xffe2, 0x59 },               /* Shift_R */
    { 0xffe3, 0x14 },               /* Control_L */
    { 0xffe4, KEY_EXT | 0x14 },     /* Control_R */
    { 0xffe5, 0x58 },               /* Caps_Lock */
    { 0xffe7, KEY_EXT | 0x1F },     /* Meta_L */
    { 0xffe8, KEY_EXT | 0x27 },     /* Meta_R */
    { 0xffe9, 0x11 },               /* Alt_L */
    { 0xffea, KEY_EXT | 0x11 },     /* Alt_R */
    { 0xfe03, KEY_EXT | 0x11 },     /* ISO_Level3_Shift (AltGr) */
    { 0xffeb, KEY_EXT | 0x1F },     /* Super_L */
    { 0xffec, KEY_EXT | 0x27 },     /* Super_R */
    { 0xffff, KEY_EXT | 0x71 },     /* Delete */
};

unsigned keymap_from_keysym(uint32_t keysym)
{
    if (keysym >= 0x20 && keysym < 0x7F)
        return ascii_key(keysym);
    for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++)
        if (syms[i].sym == keysym)
            return syms[i].key;
    return KEY_NONE;
}

size_t keymap_sequence(unsigned key, bool down, uint8_t *out)
{
    static const uint8_t print_make[] = { 0xE0, 0x12, 0xE0, 0x7C };
    static const uint8_t print_break[] = { 0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12 };
    static const uint8_t pause_make[] = { 0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77 };
    size_t n = 0;
    if (key == KEY_PRINT) {
        const uint8_t *s = down ? print_make : print_break;
        n = down ? sizeof(print_make) : sizeof(print_break);
        memcpy(out, s, n);
        return n;
    }
    if (key == KEY_PAUSE) {     /* one sequence on press, nothing on release */
        if (!down)
            return 0;
        memcpy(out, pause_make, sizeof(pause_make));
        return sizeof(pause_make);
    }
    if (key == KEY_NONE || key > (KEY_EXT | 0xFF))
        return 0;
    if (key & KEY_EXT)
        out[n++] = 0xE0;
    if (!down)
        out[n++] = 0xF0;
    out[n++] = (uint8_t)key;
    return n;
}

int keymap_sendkey(const char *combo, uint8_t *out, size_t outlen, char *bad, size_t badlen)
{
    unsigned keys[SENDKEY_MAX_KEYS];
    size_t nkeys = 0, pos = 0;
    const char *p = combo;
    while (*p) {
        const char *dash = strchr(p, '-');
        size_t len = dash ? (size_t)(dash - p) : strlen(p);
        char name[32];
        if (len == 0 || len >= sizeof(name) || nkeys == SENDKEY_MAX_KEYS) {
            if (bad && badlen)
                snprintf(bad, badlen, "%.*s", (int)(len < 31 ? len : 31), p);
            return -1;
        }
        memcpy(name, p, len);
        name[len] = '\0';
        unsigned k = keymap_from_name(name);
        if (k == KEY_NONE) {
            if (bad && badlen)
                snprintf(bad, badlen, "%s", name);
            return -1;
        }
        keys[nkeys++] = k;
        p += len + (dash ? 1 : 0);
        if (dash && !*p) {      /* trailing '-' */
            if (bad && badlen)
                snprintf(bad, badlen, "%s", combo);
            return -1;
        }
    }
    if (nkeys == 0) {
        if (bad && badlen)
            snprintf(bad, badlen, "%s", combo);
        return -1;
    }
    for (size_t pass = 0; pass < 2 * nkeys; pass++) {
        bool down = pass < nkeys;
        unsigned k = down ? keys[pass] : keys[2 * nkeys - 1 - pass];
        uint8_t seq[KEYMAP_MAX_SEQ];
        size_t n = keymap_sequence(k, down, seq);
        if (pos + n > outlen)
            return -1;
        memcpy(out + pos, seq, n);
        pos += n;
    }
    return (int)pos;
}
