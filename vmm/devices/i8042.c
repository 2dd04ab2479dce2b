/* The i8042 keyboard controller with a PS/2 keyboard and a PS/2 mouse.
 *
 * Model: the controller has one output buffer (port 0x60) fed from three
 * sources: bytes the controller itself produces (command replies, D2/D3
 * loopback), the keyboard and the mouse.  Each device keeps its own small
 * queues, like the buffer inside a real keyboard, and only hands a byte to
 * the controller when the output buffer is empty and the controller has
 * not inhibited that device (command byte bits 4/5).  Translation to scan
 * code set 1 is done by the controller on the way in, as on hardware, so
 * flipping XLATE affects bytes still waiting in the keyboard.
 *
 * Everything is synchronous: the input buffer is never seen full (IBF 0)
 * and replies are available as soon as the command was written. */
#include "i8042.h"

#include <stdlib.h>
#include <string.h>

/* Status register (read 0x64). */
#define ST_OBF      0x01    /* output buffer full */
#define ST_IBF      0x02    /* input buffer full: never set here */
#define ST_SYS      0x04    /* system flag (command byte bit 2 / self test) */
#define ST_A2       0x08    /* last write was a command (0x64) */
#define ST_UNLOCKED 0x10    /* keylock switch: 1 = not inhibited */
#define ST_AUX_OBF  0x20    /* the byte in the output buffer is from aux */

/* Command byte (controller RAM byte 0). */
#define CB_KBD_INT  0x01
#define CB_AUX_INT  0x02
#define CB_SYS      0x04
#define CB_KBD_DIS  0x10
#define CB_AUX_DIS  0x20
#define CB_XLATE    0x40
#define CB_RESET    (CB_KBD_INT | CB_AUX_INT)

/* Output port (D0/D1). */
#define OP_RESET_N  0x01    /* 0 = hold the CPU in reset */
#define OP_A20      0x02
#define OP_KBD_OBF  0x10    /* mirrors IRQ1 */
#define OP_AUX_OBF  0x20    /* mirrors IRQ12 */
#define OP_RESET    0xCF    /* not in reset, A20 on, clock/data lines idle high */

/* Input port (C0): keylock not inhibited, no manufacturing jumper, colour
 * display.  No guest we know of depends on the other bits. */
#define INPUT_PORT  0xA0

/* Device queues.  A keyboard holds about 16 bytes of scan codes; replies
 * to commands have their own short queue so they go out ahead of buffered
 * keys, as a real keyboard answers a command at once. */
#define RESPQ_SIZE  8
#define SCANQ_SIZE  32
#define PKTQ_SIZE   48      /* 12 four-byte mouse packets */
#define CTRLQ_SIZE  8

#define KBD_ACK     0xFA
#define KBD_RESEND  0xFE
#define KBD_BAT_OK  0xAA
#define KBD_ECHO    0xEE
#define KBD_BREAK   0xF0

struct byteq {
    uint8_t buf[64];
    unsigned head, len, cap;    /* cap <= sizeof(buf) */
};

struct ps2_kbd {
    struct byteq resp;          /* replies to commands */
    struct byteq scan;          /* scan codes from host keys */
    bool scanning;              /* F4/F5 */
    uint8_t set;                /* 1, 2 or 3 as F0 last selected */
    uint8_t leds;
    uint8_t typematic;
    uint8_t param_cmd;          /* ED, F3 or F0 waiting for its parameter */
    uint8_t last_sent;          /* for FE resend */
    bool set1_break;            /* keyboard-side set-1 output saw F0 */
};

struct ps2_mouse {
    struct byteq resp;
    struct byteq pkt;           /* stream-mode movement packets */
    bool enabled;               /* data reporting (F4/F5) */
    bool remote;                /* remote (F0) vs stream (EA) mode */
    bool wrap;                  /* echo mode (EE/EC) */
    bool scale21;               /* E7 */
    uint8_t rate, resolution, id;
    uint8_t param_cmd;          /* F3 or E8 waiting for its parameter */
    uint8_t last_sent;
    uint8_t rates[3];           /* last sample rates, for the IntelliMouse knock */
    int acc_dx, acc_dy, acc_dz; /* motion not yet reported (PS/2 signs) */
    unsigned buttons;           /* PS/2 order: bit0 left, bit1 right, bit2 middle */
    bool acc_pending;
};

struct ctrl_byte {
    uint8_t val;
    bool aux;
};

struct i8042 {
    struct iobus *pio;
    struct io_region data_region, cmd_region;
    struct irq kbd_irq, aux_irq;
    struct i8042_hooks hooks;
    const struct logger *log;
    struct ratelimit rl;

    uint8_t ram[32];            /* ram[0] is the command byte */
    uint8_t status;             /* OBF, AUX_OBF, SYS, A2 */
    uint8_t outport;
    uint8_t obuf;               /* what a read of 0x60 returns */
    uint8_t pending;            /* command waiting for a data byte, or 0 */
    struct ctrl_byte ctrlq[CTRLQ_SIZE];
    unsigned ctrl_head, ctrl_len;
    bool prefer_aux;            /* alternate between the two devices */
    int kbd_level, aux_level;   /* last levels driven on IRQ1/IRQ12 */

    struct ps2_kbd kbd;
    struct ps2_mouse mouse;
};

/* The controller's set 2 -> set 1 translation.  Codes 0x80-0xFF pass
 * through unchanged except 0x83 (F7) and 0x84 (SysRq), whose set-1 codes
 * are 0x41 and 0x54; that is why a translated keyboard ID reads AB 41. */
static const uint8_t xlate_table[128] = {
    0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58,
    0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,
    0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a,
    0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,
    0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c,
    0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,
    0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e,
    0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,
    0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60,
    0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,
    0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e,
    0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,
    0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b,
    0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,
    0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45,
    0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,
};

static uint8_t xlate(uint8_t code)
{
    if (code < 0x80)
        return xlate_table[code];
    if (code == 0x83)
        return 0x41;
    if (code == 0x84)
        return 0x54;
    return code;
}

/* ---- byte queues ---- */

static void q_init(struct byteq *q, unsigned cap)
{
    q->head = q->len = 0;
    q->cap = cap <= sizeof(q->buf) ? cap : sizeof(q->buf);
}

static unsigned q_free(const struct byteq *q)
{
    return q->cap - q->len;
}

static bool q_push(struct byteq *q, uint8_t v)
{
    if (q->len >= q->cap)
        return false;
    q->buf[(q->head + q->len) % q->cap] = v;
    q->len++;
    return true;
}

static uint8_t q_peek(const struct byteq *q, unsigned i)
{
    return q->buf[(q->head + i) % q->cap];
}

static uint8_t q_pop(struct byteq *q)
{
    uint8_t v = q->buf[q->head];
    q->head = (q->head + 1) % q->cap;
    q->len--;
    return v;
}

static void q_clear(struct byteq *q)
{
    q->head = q->len = 0;
}

/* ---- output buffer and IRQs ---- */

static void update_irqs(struct i8042 *k)
{
    bool full = k->status & ST_OBF;
    bool aux = k->status & ST_AUX_OBF;
    int kl = full && !aux && (k->ram[0] & CB_KBD_INT);
    int al = full && aux && (k->ram[0] & CB_AUX_INT);
    /* Only drive changes: the PIC inputs are edge-triggered, and a byte
     * replacing another must show as a new edge (read lowers first). */
    if (kl != k->kbd_level) {
        k->kbd_level = kl;
        irq_set(&k->kbd_irq, kl);
    }
    if (al != k->aux_level) {
        k->aux_level = al;
        irq_set(&k->aux_irq, al);
    }
}

static void mouse_flush(struct i8042 *k);

/* The next keyboard byte as the controller passes it on.  With XLATE an
 * F0 is swallowed and sets bit 7 of the code after it; an F0 whose code
 * has not arrived yet stays queued, so no reply can slip in between. */
static bool kbd_take(struct i8042 *k, uint8_t *out)
{
    struct ps2_kbd *kb = &k->kbd;
    if (kb->resp.len) {
        *out = kb->last_sent = q_pop(&kb->resp);
        if (k->ram[0] & CB_XLATE)
            *out = xlate(*out);
        return true;
    }
    if (!kb->scan.len)
        return false;
    if (!(k->ram[0] & CB_XLATE)) {
        *out = kb->last_sent = q_pop(&kb->scan);
        return true;
    }
    if (q_peek(&kb->scan, 0) != KBD_BREAK) {
        *out = xlate(kb->last_sent = q_pop(&kb->scan));
        return true;
    }
    if (kb->scan.len < 2)
        return false;
    q_pop(&kb->scan);
    *out = xlate(kb->last_sent = q_pop(&kb->scan)) | 0x80;
    return true;
}

static bool aux_take(struct i8042 *k, uint8_t *out)
{
    struct ps2_mouse *m = &k->mouse;
    if (m->resp.len)
        *out = q_pop(&m->resp);
    else if (m->pkt.len)
        *out = q_pop(&m->pkt);
    else
        return false;
    m->last_sent = *out;
    mouse_flush(k);     /* room again for motion that waited */
    return true;
}

static void load_obuf(struct i8042 *k, uint8_t v, bool aux)
{
    k->obuf = v;
    k->status |= ST_OBF;
    if (aux)
        k->status |= ST_AUX_OBF;
    else
        k->status &= (uint8_t)~ST_AUX_OBF;
}

/* Fill an empty output buffer: controller bytes first, then the two
 * devices in turn so a typing burst cannot starve the mouse. */
static void refill(struct i8042 *k)
{
    uint8_t v;
    if (!(k->status & ST_OBF)) {
        if (k->ctrl_len) {
            struct ctrl_byte c = k->ctrlq[k->ctrl_head];
            k->ctrl_head = (k->ctrl_head + 1) % CTRLQ_SIZE;
            k->ctrl_len--;
            load_obuf(k, c.val, c.aux);
        } else {
            bool kbd_ok = !(k->ram[0] & CB_KBD_DIS);
            bool aux_ok = !(k->ram[0] & CB_AUX_DIS);
            if (k->prefer_aux && aux_ok && aux_take(k, &v)) {
                load_obuf(k, v, true);
                k->prefer_aux = false;
            } else if (kbd_ok && kbd_take(k, &v)) {
                load_obuf(k, v, false);
                k->prefer_aux = true;
            } else if (aux_ok && aux_take(k, &v)) {
                load_obuf(k, v, true);
                k->prefer_aux = false;
            }
        }
    }
    update_irqs(k);
}

static void ctrl_reply(struct i8042 *k, uint8_t v, bool aux)
{
    if (k->ctrl_len >= CTRLQ_SIZE) {
        guest_error(k->log, &k->rl, "i8042: controller replies not read, 0x%02x dropped", v);
        return;
    }
    k->ctrlq[(k->ctrl_head + k->ctrl_len) % CTRLQ_SIZE] = (struct ctrl_byte){ v, aux };
    k->ctrl_len++;
}

/* ---- PS/2 keyboard ---- */

static void kbd_defaults(struct ps2_kbd *kb)
{
    kb->typematic = 0x2B;       /* 10.9 cps, 500 ms */
    kb->set = 2;
    kb->param_cmd = 0;
    kb->set1_break = false;
}

static void kbd_reply(struct i8042 *k, uint8_t v)
{
    if (!q_push(&k->kbd.resp, v))
        guest_error(k->log, &k->rl, "i8042: keyboard replies not read, 0x%02x dropped", v);
}

static void kbd_param(struct i8042 *k, uint8_t cmd, uint8_t v)
{
    struct ps2_kbd *kb = &k->kbd;
    switch (cmd) {
    case 0xED:
        kb->leds = v & 0x07;
        kbd_reply(k, KBD_ACK);
        break;
    case 0xF3:
        if (v & 0x80) {
            kbd_reply(k, KBD_RESEND);
            return;
        }
        kb->typematic = v;
        kbd_reply(k, KBD_ACK);
        break;
    case 0xF0:
        if (v > 3) {
            kbd_reply(k, KBD_RESEND);
            return;
        }
        kbd_reply(k, KBD_ACK);
        if (v == 0)
            kbd_reply(k, kb->set);
        else
            kb->set = v;
        break;
    }
}

static void kbd_command(struct i8042 *k, uint8_t v)
{
    struct ps2_kbd *kb = &k->kbd;
    switch (v) {
    case 0xFF:                  /* reset and self test */
        q_clear(&kb->scan);
        q_clear(&kb->resp);
        kbd_defaults(kb);
        kb->scanning = true;
        kbd_reply(k, KBD_ACK);
        kbd_reply(k, KBD_BAT_OK);
        break;
    case 0xFE:                  /* resend the last byte */
        kbd_reply(k, kb->last_sent);
        break;
    case 0xF6:                  /* defaults, keep scanning */
        q_clear(&kb->scan);
        kbd_defaults(kb);
        kbd_reply(k, KBD_ACK);
        break;
    case 0xF5:                  /* defaults, stop scanning */
        q_clear(&kb->scan);
        kbd_defaults(kb);
        kb->scanning = false;
        kbd_reply(k, KBD_ACK);
        break;
    case 0xF4:                  /* enable: clears the buffer */
        q_clear(&kb->scan);
        kb->scanning = true;
        kbd_reply(k, KBD_ACK);
        break;
    case 0xF7: case 0xF8: case 0xF9: case 0xFA:
        /* Set-3 "all keys" attributes: acknowledged, no effect here. */
        kbd_reply(k, KBD_ACK);
        break;
    case 0xF2:                  /* identify: MF2 keyboard */
        kbd_reply(k, KBD_ACK);
        kbd_reply(k, 0xAB);
        kbd_reply(k, 0x83);
        break;
    case 0xEE:
        kbd_reply(k, KBD_ECHO);
        break;
    case 0xED: case 0xF3: case 0xF0:
        kb->param_cmd = v;
        kbd_reply(k, KBD_ACK);
        break;
    default:
        guest_error(k->log, &k->rl, "i8042: unknown keyboard command 0x%02x", v);
        kbd_reply(k, KBD_RESEND);
        break;
    }
}

/* A byte the guest sent to the keyboard (port 0x60). */
static void kbd_write(struct i8042 *k, uint8_t v)
{
    struct ps2_kbd *kb = &k->kbd;
    uint8_t cmd = kb->param_cmd;
    kb->param_cmd = 0;
    /* A command byte where a parameter was expected aborts the command,
     * as keyboards do; anything else is the parameter. */
    if (cmd && v < 0xED)
        kbd_param(k, cmd, v);
    else
        kbd_command(k, v);
}

/* Queue one scan code byte; the last free slot holds the overrun code. */
static void kbd_queue_scan(struct i8042 *k, uint8_t v)
{
    struct byteq *q = &k->kbd.scan;
    unsigned room = q_free(q);
    if (room == 0)
        return;
    if (room == 1) {
        q_push(q, k->kbd.set == 1 ? 0xFF : 0x00);
        guest_error(k->log, &k->rl, "i8042: keyboard buffer overrun (guest not reading)");
        return;
    }
    q_push(q, v);
}

void i8042_keyboard_bytes(struct i8042 *k, const uint8_t *codes, size_t len)
{
    struct ps2_kbd *kb = &k->kbd;
    if (!kb->scanning)
        return;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = codes[i];
        if (kb->set == 1) {
            /* The keyboard itself sends set 1: same table, break = bit 7. */
            if (c == KBD_BREAK) {
                kb->set1_break = true;
                continue;
            }
            c = xlate(c) | (kb->set1_break ? 0x80 : 0);
            kb->set1_break = false;
        }
        kbd_queue_scan(k, c);
    }
    refill(k);
}

/* ---- PS/2 mouse ---- */

static void mouse_clear_motion(struct ps2_mouse *m)
{
    m->acc_dx = m->acc_dy = m->acc_dz = 0;
    m->acc_pending = false;
    q_clear(&m->pkt);
}

static void mouse_defaults(struct ps2_mouse *m)
{
    m->rate = 100;
    m->resolution = 2;          /* 4 counts/mm */
    m->scale21 = false;
    m->enabled = false;
    m->param_cmd = 0;
    mouse_clear_motion(m);
}

static void mouse_reply(struct i8042 *k, uint8_t v)
{
    if (!q_push(&k->mouse.resp, v))
        guest_error(k->log, &k->rl, "i8042: mouse replies not read, 0x%02x dropped", v);
}

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* 2:1 scaling as the PS/2 mouse applies it in stream mode. */
static int scale21(int d)
{
    static const int small[6] = { 0, 1, 1, 3, 6, 9 };
    int a = d < 0 ? -d : d;
    int s = a < 6 ? small[a] : 2 * a;
    return d < 0 ? -s : s;
}

static unsigned packet_size(const struct ps2_mouse *m)
{
    return m->id == 3 ? 4 : 3;
}

/* Build a packet from the accumulated motion and queue it on q (the
 * packet queue for stream mode, the reply queue for EB). */
static void mouse_send_packet(struct i8042 *k, struct byteq *q, bool stream)
{
    struct ps2_mouse *m = &k->mouse;
    int dx = m->acc_dx, dy = m->acc_dy;
    if (stream && m->scale21) {
        dx = scale21(dx);
        dy = scale21(dy);
    }
    uint8_t b0 = (uint8_t)(0x08 | (m->buttons & 7));
    if (dx < -256 || dx > 255)
        b0 |= 0x40;
    if (dy < -256 || dy > 255)
        b0 |= 0x80;
    dx = clampi(dx, -256, 255);
    dy = clampi(dy, -256, 255);
    if (dx < 0)
        b0 |= 0x10;
    if (dy < 0)
        b0 |= 0x20;
    q_push(q, b0);
    q_push(q, (uint8_t)(dx & 0xff));
    q_push(q, (uint8_t)(dy & 0xff));
    if (m->id == 3)
        q_push(q, (uint8_t)(clampi(m->acc_dz, -8, 7) & 0xff));
    m->acc_dx = m->acc_dy = m->acc_dz = 0;
    m->acc_pending = false;
}

/* Stream mode: report accumulated motion when there is room for a whole
 * packet; otherwise it keeps accumulating until the guest reads. */
static void mouse_flush(struct i8042 *k)
{
    struct ps2_mouse *m = &k->mouse;
    if (!m->acc_pending || m->remote || m->wrap || !m->enabled)
        return;
    if (q_free(&m->pkt) < packet_size(m))
        return;
    mouse_send_packet(k, &m->pkt, true);
}

static bool valid_rate(uint8_t r)
{
    return r == 10 || r == 20 || r == 40 || r == 60 || r == 80 || r == 100 || r == 200;
}

static void mouse_param(struct i8042 *k, uint8_t cmd, uint8_t v)
{
    struct ps2_mouse *m = &k->mouse;
    if (cmd == 0xF3) {
        if (!valid_rate(v)) {
            mouse_reply(k, KBD_RESEND);
            return;
        }
        m->rate = v;
        m->rates[0] = m->rates[1];
        m->rates[1] = m->rates[2];
        m->rates[2] = v;
        /* IntelliMouse knock: rates 200, 100, 80 enable the wheel. */
        if (m->rates[0] == 200 && m->rates[1] == 100 && m->rates[2] == 80)
            m->id = 3;
        mouse_reply(k, KBD_ACK);
    } else {                    /* E8 resolution */
        if (v > 3) {
            mouse_reply(k, KBD_RESEND);
            return;
        }
        m->resolution = v;
        mouse_reply(k, KBD_ACK);
    }
}

static uint8_t mouse_status_byte(const struct ps2_mouse *m)
{
    /* Buttons in status order: bit2 left, bit1 middle, bit0 right. */
    uint8_t b = (uint8_t)(((m->buttons & 1) << 2) | ((m->buttons & 4) >> 1) |
                          ((m->buttons & 2) >> 1));
    if (m->remote)
        b |= 0x40;
    if (m->enabled)
        b |= 0x20;
    if (m->scale21)
        b |= 0x10;
    return b;
}

static void mouse_command(struct i8042 *k, uint8_t v)
{
    struct ps2_mouse *m = &k->mouse;
    /* A command aborts any packet the mouse was still sending. */
    q_clear(&m->pkt);
    switch (v) {
    case 0xFF:
        q_clear(&m->resp);
        mouse_defaults(m);
        m->remote = m->wrap = false;
        m->id = 0;
        memset(m->rates, 0, sizeof(m->rates));
        mouse_reply(k, KBD_ACK);
        mouse_reply(k, KBD_BAT_OK);
        mouse_reply(k, 0x00);
        break;
    case 0xFE:
        mouse_reply(k, m->last_sent);
        break;
    case 0xF6:
        mouse_defaults(m);
        mouse_reply(k, KBD_ACK);
        break;
    case 0xF5: case 0xF4:
        m->enabled = v == 0xF4;
        mouse_clear_motion(m);
        mouse_reply(k, KBD_ACK);
        break;
    case 0xF3: case 0xE8:
        m->param_cmd = v;
        mouse_reply(k, KBD_ACK);
        break;
    case 0xF2:
        mouse_reply(k, KBD_ACK);
        mouse_reply(k, m->id);
        break;
    case 0xF0: case 0xEA:
        m->remote = v == 0xF0;
        mouse_clear_motion(m);
        mouse_reply(k, KBD_ACK);
        break;
    case 0xEB:
        mouse_reply(k, KBD_ACK);
        if (q_free(&m->resp) >= packet_size(m))
            mouse_send_packet(k, &m->resp, false);
        break;
    case 0xE9:
        mouse_reply(k, KBD_ACK);
        mouse_reply(k, mouse_status_byte(m));
        mouse_reply(k, m->resolution);
        mouse_reply(k, m->rate);
        break;
    case 0xE6: case 0xE7:
        m->scale21 = v == 0xE7;
        mouse_reply(k, KBD_ACK);
        break;
    case 0xEE: case 0xEC:
        m->wrap = v == 0xEE;
        mouse_clear_motion(m);
        mouse_reply(k, KBD_ACK);
        break;
    default:
        guest_error(k->log, &k->rl, "i8042: unknown mouse command 0x%02x", v);
        mouse_reply(k, KBD_RESEND);
        break;
    }
}

/* A byte the guest sent to the mouse (D4 then 0x60). */
static void mouse_write(struct i8042 *k, uint8_t v)
{
    struct ps2_mouse *m = &k->mouse;
    if (m->wrap && v != 0xEC && v != 0xFF) {
        mouse_reply(k, v);      /* wrap mode echoes everything else */
        return;
    }
    uint8_t cmd = m->param_cmd;
    m->param_cmd = 0;
    if (cmd)
        mouse_param(k, cmd, v);
    else
        mouse_command(k, v);
}

void i8042_mouse_event(struct i8042 *k, int dx, int dy, int dz, unsigned buttons)
{
    struct ps2_mouse *m = &k->mouse;
    /* Keep the sums far from int overflow; the packet clamps to 9 bits. */
    const int lim = 1 << 16;
    bool changed = dx || dy || (dz && m->id == 3) || (buttons & 7) != m->buttons;
    m->buttons = buttons & 7;
    if (!changed || m->wrap || (!m->remote && !m->enabled))
        return;
    m->acc_dx = clampi(m->acc_dx + clampi(dx, -lim, lim), -lim, lim);
    m->acc_dy = clampi(m->acc_dy - clampi(dy, -lim, lim), -lim, lim);  /* PS/2: up > 0 */
    m->acc_dz = clampi(m->acc_dz + clampi(dz, -lim, lim), -lim, lim);
    m->acc_pending = true;
    mouse_flush(k);
    refill(k);
}

/* ---- controller ---- */

static void write_outport(struct i8042 *k, uint8_t v)
{
    k->outport = v;
    /* Every explicit write drives A20: the machine's gate may have been
     * moved by port 0x92 since, so "unchanged here" means nothing. */
    if (k->hooks.set_a20)
        k->hooks.set_a20(k->hooks.opaque, v & OP_A20);
    if (!(v & OP_RESET_N) && k->hooks.reset)
        k->hooks.reset(k->hooks.opaque);
}

static uint8_t read_outport(const struct i8042 *k)
{
    uint8_t v = k->outport & (uint8_t)~(OP_KBD_OBF | OP_AUX_OBF);
    if (k->status & ST_OBF)
        v |= (k->status & ST_AUX_OBF) ? OP_AUX_OBF : OP_KBD_OBF;
    return v;
}

static void write_command_byte(struct i8042 *k, uint8_t v)
{
    k->ram[0] = v;
    if (v & CB_SYS)
        k->status |= ST_SYS;
    else
        k->status &= (uint8_t)~ST_SYS;
}

static void set_a20(struct i8042 *k, bool on)
{
    write_outport(k, on ? (k->outport | OP_A20) : (k->outport & (uint8_t)~OP_A20));
}

static void controller_command(struct i8042 *k, uint8_t cmd)
{
    k->pending = 0;
    if (cmd >= 0x20 && cmd <= 0x3F) {
        ctrl_reply(k, k->ram[cmd & 0x1F], false);
        return;
    }
    if ((cmd >= 0x60 && cmd <= 0x7F) || (cmd >= 0xD1 && cmd <= 0xD4)) {
        k->pending = cmd;       /* the data byte follows on 0x60 */
        return;
    }
    if (cmd >= 0xF0) {
        /* Pulse the output lines whose bit is 0 for ~6 us; only the
         * reset line (bit 0) has a lasting effect. */
        if (!(cmd & 0x01) && k->hooks.reset)
            k->hooks.reset(k->hooks.opaque);
        return;
    }
    switch (cmd) {
    case 0xA4:                  /* password installed? no */
        ctrl_reply(k, 0xF1, false);
        break;
    case 0xA7:
        k->ram[0] |= CB_AUX_DIS;
        break;
    case 0xA8:
        k->ram[0] &= (uint8_t)~CB_AUX_DIS;
        break;
    case 0xA9:                  /* aux interface test: no error */
    case 0xAB:                  /* keyboard interface test: no error */
        ctrl_reply(k, 0x00, false);
        break;
    case 0xAA:                  /* self test passed; the command byte stays */
        k->status |= ST_SYS;
        ctrl_reply(k, 0x55, false);
        break;
    case 0xAD:
        k->ram[0] |= CB_KBD_DIS;
        break;
    case 0xAE:
        k->ram[0] &= (uint8_t)~CB_KBD_DIS;
        break;
    case 0xC0:
        ctrl_reply(k, INPUT_PORT, false);
        break;
    case 0xD0:
        ctrl_reply(k, read_outport(k), false);
        break;
    case 0xDD:
        set_a20(k, false);
        break;
    case 0xDF:
        set_a20(k, true);
        break;
    case 0xE0:                  /* test inputs T0/T1: the clock lines, low when inhibited */
        ctrl_reply(k, (uint8_t)(((k->ram[0] & CB_KBD_DIS) ? 0 : 1) |
                                ((k->ram[0] & CB_AUX_DIS) ? 0 : 2)), false);
        break;
    default:
        guest_error(k->log, &k->rl, "i8042: unknown controller command 0x%02x", cmd);
        break;
    }
}

static void controller_data(struct i8042 *k, uint8_t v)
{
    uint8_t cmd = k->pending;
    k->pending = 0;
    if (cmd >= 0x60 && cmd <= 0x7F) {
        if (cmd == 0x60)
            write_command_byte(k, v);
        else
            k->ram[cmd & 0x1F] = v;
        return;
    }
    switch (cmd) {
    case 0xD1:
        write_outport(k, v);
        break;
    case 0xD2:                  /* as if from the keyboard, untranslated */
        ctrl_reply(k, v, false);
        break;
    case 0xD3:                  /* as if from the mouse */
        ctrl_reply(k, v, true);
        break;
    case 0xD4:
        mouse_write(k, v);
        break;
    default:
        kbd_write(k, v);
        break;
    }
}

static uint64_t data_read(void *opaque, uint64_t offset, unsigned size)
{
    struct i8042 *k = opaque;
    (void)offset;
    (void)size;
    uint8_t v = k->obuf;        /* an empty buffer reads stale, like hardware */
    if (k->status & ST_OBF) {
        k->status &= (uint8_t)~(ST_OBF | ST_AUX_OBF);
        update_irqs(k);         /* low first, so the next byte is a new edge */
        refill(k);
    }
    return v;
}

static void data_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct i8042 *k = opaque;
    (void)offset;
    (void)size;
    k->status &= (uint8_t)~ST_A2;
    controller_data(k, (uint8_t)value);
    refill(k);
}

static uint64_t status_read(void *opaque, uint64_t offset, unsigned size)
{
    struct i8042 *k = opaque;
    (void)offset;
    (void)size;
    return k->status | ST_UNLOCKED;
}

static void command_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct i8042 *k = opaque;
    (void)offset;
    (void)size;
    k->status |= ST_A2;
    controller_command(k, (uint8_t)value);
    refill(k);
}

static const struct io_ops data_ops = { data_read, data_write, 1 };
static const struct io_ops cmd_ops = { status_read, command_write, 1 };

void i8042_reset(struct i8042 *k)
{
    memset(k->ram, 0, sizeof(k->ram));
    k->ram[0] = CB_RESET;
    k->status = 0;
    k->outport = OP_RESET;
    k->obuf = 0;
    k->pending = 0;
    k->ctrl_head = k->ctrl_len = 0;
    k->prefer_aux = false;

    struct ps2_kbd *kb = &k->kbd;
    q_init(&kb->resp, RESPQ_SIZE);
    q_init(&kb->scan, SCANQ_SIZE);
    kbd_defaults(kb);
    kb->scanning = true;
    kb->leds = 0;
    kb->last_sent = 0;

    struct ps2_mouse *m = &k->mouse;
    q_init(&m->resp, RESPQ_SIZE);
    q_init(&m->pkt, PKTQ_SIZE);
    mouse_defaults(m);
    m->remote = m->wrap = false;
    m->id = 0;
    m->buttons = 0;
    m->last_sent = 0;
    memset(m->rates, 0, sizeof(m->rates));

    update_irqs(k);
}

struct i8042 *i8042_create(struct iobus *pio, struct irq kbd_irq, struct irq aux_irq,
                           const struct i8042_hooks *hooks, const struct logger *log)
{
    struct i8042 *k = calloc(1, sizeof(*k));
    if (!k)
        return NULL;
    k->pio = pio;
    k->kbd_irq = kbd_irq;
    k->aux_irq = aux_irq;
    if (hooks)
        k->hooks = *hooks;
    k->log = log;
    if (iobus_register(pio, &k->data_region, 0x60, 1, &data_ops, k, "i8042-data") < 0 ||
        iobus_register(pio, &k->cmd_region, 0x64, 1, &cmd_ops, k, "i8042-cmd") < 0) {
        iobus_unmap(pio, &k->data_region);
        free(k);
        return NULL;
    }
    /* The lines start low; i8042_reset only drives changes. */
    i8042_reset(k);
    return k;
}

void i8042_destroy(struct i8042 *k)
{
    if (!k)
        return;
    iobus_unmap(k->pio, &k->data_region);
    iobus_unmap(k->pio, &k->cmd_region);
    free(k);
}
