#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "util/text.h"

int cmd_devices(int argc, char **argv) {
    const char *lib = NULL;
    const cli_opt opts[] = {
        {"--webgpu-lib", CLI_STR, &lib, 0, 0, "PATH", "WebGPU library (default: $WGPT_WEBGPU_LIB, then the bundled Dawn)", 0},
        {0},
    };
    cli_command cmd = {"devices", "[--webgpu-lib PATH]", "Lists adapters in the order --device numbers them.\n", opts,
                       NULL, 0, NULL, 0, NULL};
    int pr = cli_parse(&cmd, argc, argv);
    if (pr) return pr < 0 ? 0 : pr;
    wgpt_device_info d[16];
    char err[512];
    int n = 0;
    if (wgpt_list_devices(lib, d, 16, &n, err, sizeof err) != WGPT_OK) return cli_error("%s", err);
    if (n == 0) return cli_error("no adapters found (no Vulkan driver? see README: SwiftShader via scripts/env.sh)");
    for (int i = 0; i < n; i++)
        printf("%d: %s  [%s, %s, vendor 0x%04x device 0x%04x]%s%s\n", i, text_show_z(d[i].name), text_show_z(d[i].backend),
               text_show_z(d[i].kind), d[i].vendor_id, d[i].device_id, d[i].usable ? "" : "  refused: ",
               d[i].usable ? "" : text_show_z(d[i].why));
    return cli_check_stdout("devices");
}
