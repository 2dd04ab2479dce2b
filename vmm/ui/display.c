/* The display's monitor commands.  They run on the event loop with the
 * machine lock held, like everything that touches the VGA. */
#include "display.h"

#include <stdlib.h>
#include <string.h>

#include "../devices/i8042.h"
#include "../devices/vga/vga.h"
#include "../monitor.h"
#include "keymap.h"
#include "png.h"

struct vga_monitor {
    struct vga *vga;
    struct i8042 *kbd;
};

static int cmd_screendump(void *opaque, struct monitor_reply *r, int argc, char **argv)
{
    struct vga_monitor *d = opaque;
    char err[256];
    if (argc != 1) {
        monitor_error(r, "usage: screendump FILE.png");
        return -1;
    }
    int w, h;
    /* Without an update record: the changes stay pending for VNC. */
    const uint32_t *fb = vga_render(d->vga, NULL);
    vga_frame_size(d->vga, &w, &h);
    if (png_write_xrgb(argv[0], fb, w, h, err, sizeof(err)) < 0) {
        monitor_error(r, "%s", err);
        return -1;
    }
    return 0;
}

static int cmd_vga_text(void *opaque, struct monitor_reply *r, int argc, char **argv)
{
    struct vga_monitor *d = opaque;
    (void)argv;
    if (argc != 0) {
        monitor_error(r, "usage: vga-text");
        return -1;
    }
    size_t len = 256 * 65 + 1;  /* the largest text screen: 256 columns, 64 rows */
    char *buf = malloc(len);
    if (!buf) {
        monitor_error(r, "out of memory");
        return -1;
    }
    if (vga_text_dump(d->vga, buf, len) < 0) {
        free(buf);
        monitor_error(r, "the display is not in a text mode");
        return -1;
    }
    for (char *line = buf, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        monitor_printf(r, "%s", line);
    }
    free(buf);
    return 0;
}

static int cmd_sendkey(void *opaque, struct monitor_reply *r, int argc, char **argv)
{
    struct vga_monitor *d = opaque;
    uint8_t seq[2 * SENDKEY_MAX_KEYS * KEYMAP_MAX_SEQ];
    char bad[64];
    /* A second argument (QEMU's hold time in ms) is accepted and ignored:
     * the make and break codes are queued at once. */
    if (argc < 1 || argc > 2) {
        monitor_error(r, "usage: sendkey KEY[-KEY...]");
        return -1;
    }
    if (!d->kbd) {
        monitor_error(r, "no keyboard");
        return -1;
    }
    int n = keymap_sendkey(argv[0], seq, sizeof(seq), bad, sizeof(bad));
    if (n < 0) {
        monitor_error(r, "unknown key '%s'", bad);
        return -1;
    }
    i8042_keyboard_bytes(d->kbd, seq, (size_t)n);
    return 0;
}

static int cmd_info_vga(void *opaque, struct monitor_reply *r, int argc, char **argv)
{
    struct vga_monitor *d = opaque;
    char buf[128];
    (void)argc;
    (void)argv;
    vga_describe_mode(d->vga, buf, sizeof(buf));
    monitor_printf(r, "%s", buf);
    return 0;
}

struct vga_monitor *vga_monitor_register(struct monitor *m, struct vga *vga,
                                        struct i8042 *kbd)
{
    struct vga_monitor *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->vga = vga;
    d->kbd = kbd;
    /* A failure here (name taken, table full) is a board-construction
     * bug; d stays alive either way, since the commands that were added
     * point at it. */
    monitor_add_command(m, "screendump", "screendump FILE.png: save the screen as PNG",
                        cmd_screendump, d);
    monitor_add_command(m, "vga-text", "vga-text: print the text screen", cmd_vga_text, d);
    monitor_add_command(m, "sendkey", "sendkey KEY[-KEY...]: type keys (QEMU key names)",
                        cmd_sendkey, d);
    monitor_add_command(m, "info vga", "info vga: the display mode", cmd_info_vga, d);
    return d;
}

void vga_monitor_free(struct vga_monitor *d)
{
    free(d);
}
