/* Display monitor commands: screendump, vga-text, sendkey (and info vga). */
#ifndef MINUS1_DISPLAY_H
#define MINUS1_DISPLAY_H

struct monitor;
struct vga;
struct i8042;
struct vga_monitor;

/* Registers:
 *   screendump FILE.png   the current frame as PNG
 *   vga-text              the text screen as plain text
 *   sendkey KEYS          e.g. "ret", "ctrl-alt-delete" (QEMU key names)
 *   info vga              the current display mode
 * kbd may be NULL (sendkey then fails).  Returns the commands' state
 * (free it with vga_monitor_free() after monitor_destroy()), or NULL when
 * out of memory. */
struct vga_monitor *vga_monitor_register(struct monitor *m, struct vga *vga,
                                        struct i8042 *kbd);
void vga_monitor_free(struct vga_monitor *d);

#endif
