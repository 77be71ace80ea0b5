#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "gpu/gpu.h"

int cmd_devices(int argc, char **argv) {
    const char *lib = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--webgpu-lib") && i + 1 < argc) lib = argv[++i];
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: wgpt devices [--webgpu-lib PATH]\nLists adapters in the order --device numbers them.\n");
            return 0;
        } else return cli_error("devices: unknown option '%s'", argv[i]);
    }
    gpu_adapter_desc d[16];
    char err[512];
    int n = gpu_list_adapters(lib, d, 16, err, sizeof err);
    if (n < 0) return cli_error("%s", err);
    if (n == 0) return cli_error("no adapters found (no Vulkan driver? see README: SwiftShader via scripts/env.sh)");
    for (int i = 0; i < n; i++)
        printf("%d: %s  [%s, %s, vendor 0x%04x device 0x%04x]%s%s\n", i, d[i].name, d[i].backend, d[i].kind,
               d[i].vendor_id, d[i].device_id, d[i].usable ? "" : "  refused: ", d[i].usable ? "" : d[i].why);
    return 0;
}
