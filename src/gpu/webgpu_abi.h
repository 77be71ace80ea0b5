/* Our own declarations of the part of webgpu.h that wgpt uses, matching the
 * ABI of the mid-2025 standard header (WGPUStringView strings, callback-info
 * structs, futures) as built into Dawn in bun-webgpu-linux-x64@0.1.7.
 * Functions are resolved with dlsym at run time, so only the types live
 * here. Layouts were checked against that build; where a struct may have
 * grown in newer builds (WGPULimits), callers give Dawn spare room. */
#ifndef WGPT_WEBGPU_ABI_H
#define WGPT_WEBGPU_ABI_H

#include <stddef.h>
#include <stdint.h>

typedef uint32_t WGPUBool;
typedef uint64_t WGPUFlags;
typedef struct WGPUInstanceImpl *WGPUInstance;
typedef struct WGPUAdapterImpl *WGPUAdapter;
typedef struct WGPUDeviceImpl *WGPUDevice;
typedef struct WGPUQueueImpl *WGPUQueue;
typedef struct WGPUBufferImpl *WGPUBuffer;
typedef struct WGPUShaderModuleImpl *WGPUShaderModule;
typedef struct WGPUComputePipelineImpl *WGPUComputePipeline;
typedef struct WGPUBindGroupLayoutImpl *WGPUBindGroupLayout;
typedef struct WGPUBindGroupImpl *WGPUBindGroup;
typedef struct WGPUCommandEncoderImpl *WGPUCommandEncoder;
typedef struct WGPUComputePassEncoderImpl *WGPUComputePassEncoder;
typedef struct WGPUCommandBufferImpl *WGPUCommandBuffer;
typedef struct WGPUQuerySetImpl *WGPUQuerySet;

typedef struct { const char *data; size_t length; } WGPUStringView;
#define WGPU_STRLEN SIZE_MAX

typedef struct WGPUChainedStruct { const struct WGPUChainedStruct *next; uint32_t sType; } WGPUChainedStruct;
#define WGPUSType_ShaderSourceWGSL 0x00000002u

typedef struct { uint64_t id; } WGPUFuture;

/* Dawn's toggles, chained to the device descriptor. */
#define WGPUSType_DawnTogglesDescriptor 0x0005000Au
typedef struct {
    WGPUChainedStruct chain;
    size_t enabledToggleCount;
    const char *const *enabledToggles;
    size_t disabledToggleCount;
    const char *const *disabledToggles;
} WGPUDawnTogglesDescriptor;

enum { WGPUCallbackMode_WaitAnyOnly = 1, WGPUCallbackMode_AllowProcessEvents = 2, WGPUCallbackMode_AllowSpontaneous = 3 };
enum { WGPUBackendType_Undefined = 0, WGPUBackendType_Null = 1, WGPUBackendType_WebGPU = 2, WGPUBackendType_D3D11 = 3,
       WGPUBackendType_D3D12 = 4, WGPUBackendType_Metal = 5, WGPUBackendType_Vulkan = 6, WGPUBackendType_OpenGL = 7,
       WGPUBackendType_OpenGLES = 8 };
enum { WGPUAdapterType_DiscreteGPU = 1, WGPUAdapterType_IntegratedGPU = 2, WGPUAdapterType_CPU = 3, WGPUAdapterType_Unknown = 4 };
enum { WGPUPowerPreference_Undefined = 0, WGPUPowerPreference_LowPower = 1, WGPUPowerPreference_HighPerformance = 2 };
enum { WGPUFeatureLevel_Undefined = 0, WGPUFeatureLevel_Compatibility = 1, WGPUFeatureLevel_Core = 2 };
enum { WGPUFeatureName_TimestampQuery = 0x03, WGPUFeatureName_ShaderF16 = 0x0A, WGPUFeatureName_Subgroups = 0x11 };
enum { WGPURequestAdapterStatus_Success = 1 };
enum { WGPURequestDeviceStatus_Success = 1 };
enum { WGPUMapAsyncStatus_Success = 1 };
enum { WGPUPopErrorScopeStatus_Success = 1 };
enum { WGPUStatus_Success = 1 };
enum { WGPUErrorType_NoError = 1, WGPUErrorType_Validation = 2, WGPUErrorType_OutOfMemory = 3, WGPUErrorType_Internal = 4,
       WGPUErrorType_Unknown = 5 };
enum { WGPUErrorFilter_Validation = 1, WGPUErrorFilter_OutOfMemory = 2, WGPUErrorFilter_Internal = 3 };
enum { WGPUQueryType_Timestamp = 2 };

#define WGPUBufferUsage_MapRead 0x1ull
#define WGPUBufferUsage_MapWrite 0x2ull
#define WGPUBufferUsage_CopySrc 0x4ull
#define WGPUBufferUsage_CopyDst 0x8ull
#define WGPUBufferUsage_Uniform 0x40ull
#define WGPUBufferUsage_Storage 0x80ull
#define WGPUBufferUsage_QueryResolve 0x200ull
#define WGPUMapMode_Read 0x1ull

typedef struct {
    const WGPUChainedStruct *nextInChain;
    uint32_t featureLevel;
    uint32_t powerPreference;
    WGPUBool forceFallbackAdapter;
    uint32_t backendType;
    void *compatibleSurface;
} WGPURequestAdapterOptions;

typedef void (*WGPURequestAdapterCallback)(uint32_t status, WGPUAdapter adapter, WGPUStringView message,
                                           void *userdata1, void *userdata2);
typedef struct {
    const WGPUChainedStruct *nextInChain;
    uint32_t mode;
    WGPURequestAdapterCallback callback;
    void *userdata1, *userdata2;
} WGPURequestAdapterCallbackInfo;

typedef struct {
    WGPUChainedStruct *nextInChain;
    WGPUStringView vendor, architecture, device, description;
    uint32_t backendType, adapterType, vendorID, deviceID, subgroupMinSize, subgroupMaxSize;
} WGPUAdapterInfo;

typedef struct {
    WGPUChainedStruct *nextInChain;
    uint32_t maxTextureDimension1D, maxTextureDimension2D, maxTextureDimension3D, maxTextureArrayLayers;
    uint32_t maxBindGroups, maxBindGroupsPlusVertexBuffers, maxBindingsPerBindGroup;
    uint32_t maxDynamicUniformBuffersPerPipelineLayout, maxDynamicStorageBuffersPerPipelineLayout;
    uint32_t maxSampledTexturesPerShaderStage, maxSamplersPerShaderStage, maxStorageBuffersPerShaderStage;
    uint32_t maxStorageTexturesPerShaderStage, maxUniformBuffersPerShaderStage;
    uint64_t maxUniformBufferBindingSize, maxStorageBufferBindingSize;
    uint32_t minUniformBufferOffsetAlignment, minStorageBufferOffsetAlignment;
    uint32_t maxVertexBuffers;
    uint64_t maxBufferSize;
    uint32_t maxVertexAttributes, maxVertexBufferArrayStride, maxInterStageShaderVariables;
    uint32_t maxColorAttachments, maxColorAttachmentBytesPerSample;
    uint32_t maxComputeWorkgroupStorageSize, maxComputeInvocationsPerWorkgroup;
    uint32_t maxComputeWorkgroupSizeX, maxComputeWorkgroupSizeY, maxComputeWorkgroupSizeZ;
    uint32_t maxComputeWorkgroupsPerDimension;
    uint32_t maxImmediateSize; /* the trap: sits right here in this build */
    uint32_t maxStorageBuffersInVertexStage, maxStorageTexturesInVertexStage;
    uint32_t maxStorageBuffersInFragmentStage, maxStorageTexturesInFragmentStage;
} WGPULimits;

typedef struct { const WGPUChainedStruct *nextInChain; WGPUStringView label; } WGPUQueueDescriptor;

typedef void (*WGPUDeviceLostCallback)(const WGPUDevice *device, uint32_t reason, WGPUStringView message,
                                       void *userdata1, void *userdata2);
typedef struct {
    const WGPUChainedStruct *nextInChain;
    uint32_t mode;
    WGPUDeviceLostCallback callback;
    void *userdata1, *userdata2;
} WGPUDeviceLostCallbackInfo;

typedef void (*WGPUUncapturedErrorCallback)(const WGPUDevice *device, uint32_t type, WGPUStringView message,
                                            void *userdata1, void *userdata2);
typedef struct {
    const WGPUChainedStruct *nextInChain;
    WGPUUncapturedErrorCallback callback;
    void *userdata1, *userdata2;
} WGPUUncapturedErrorCallbackInfo;

typedef struct {
    const WGPUChainedStruct *nextInChain;
    WGPUStringView label;
    size_t requiredFeatureCount;
    const uint32_t *requiredFeatures;
    const WGPULimits *requiredLimits;
    WGPUQueueDescriptor defaultQueue;
    WGPUDeviceLostCallbackInfo deviceLostCallbackInfo;
    WGPUUncapturedErrorCallbackInfo uncapturedErrorCallbackInfo;
} WGPUDeviceDescriptor;

typedef void (*WGPURequestDeviceCallback)(uint32_t status, WGPUDevice device, WGPUStringView message,
                                          void *userdata1, void *userdata2);
typedef struct {
    const WGPUChainedStruct *nextInChain;
    uint32_t mode;
    WGPURequestDeviceCallback callback;
    void *userdata1, *userdata2;
} WGPURequestDeviceCallbackInfo;

typedef struct {
    const WGPUChainedStruct *nextInChain;
    WGPUStringView label;
    WGPUFlags usage;
    uint64_t size;
    WGPUBool mappedAtCreation;
} WGPUBufferDescriptor;

typedef struct { const WGPUChainedStruct *nextInChain; WGPUStringView label; } WGPUShaderModuleDescriptor;
typedef struct { WGPUChainedStruct chain; WGPUStringView code; } WGPUShaderSourceWGSL;

typedef struct { const WGPUChainedStruct *nextInChain; WGPUStringView key; double value; } WGPUConstantEntry;
typedef struct {
    const WGPUChainedStruct *nextInChain;
    WGPUShaderModule module;
    WGPUStringView entryPoint;
    size_t constantCount;
    const WGPUConstantEntry *constants;
} WGPUComputeState;
typedef struct {
    const WGPUChainedStruct *nextInChain;
    WGPUStringView label;
    void *layout; /* NULL: layout derived from the shader ("auto") */
    WGPUComputeState compute;
} WGPUComputePipelineDescriptor;

typedef struct {
    const WGPUChainedStruct *nextInChain;
    uint32_t binding;
    WGPUBuffer buffer;
    uint64_t offset;
    uint64_t size;
    void *sampler;
    void *textureView;
} WGPUBindGroupEntry;
typedef struct {
    const WGPUChainedStruct *nextInChain;
    WGPUStringView label;
    WGPUBindGroupLayout layout;
    size_t entryCount;
    const WGPUBindGroupEntry *entries;
} WGPUBindGroupDescriptor;

typedef struct { const WGPUChainedStruct *nextInChain; WGPUStringView label; } WGPUCommandEncoderDescriptor;
typedef struct { const WGPUChainedStruct *nextInChain; WGPUStringView label; } WGPUCommandBufferDescriptor;
typedef struct {
    const WGPUChainedStruct *nextInChain;
    WGPUQuerySet querySet;
    uint32_t beginningOfPassWriteIndex, endOfPassWriteIndex;
} WGPUPassTimestampWrites;
typedef struct {
    const WGPUChainedStruct *nextInChain;
    WGPUStringView label;
    const WGPUPassTimestampWrites *timestampWrites;
} WGPUComputePassDescriptor;
typedef struct {
    const WGPUChainedStruct *nextInChain;
    WGPUStringView label;
    uint32_t type;
    uint32_t count;
} WGPUQuerySetDescriptor;

typedef void (*WGPUBufferMapCallback)(uint32_t status, WGPUStringView message, void *userdata1, void *userdata2);
typedef struct {
    const WGPUChainedStruct *nextInChain;
    uint32_t mode;
    WGPUBufferMapCallback callback;
    void *userdata1, *userdata2;
} WGPUBufferMapCallbackInfo;

typedef void (*WGPUPopErrorScopeCallback)(uint32_t status, uint32_t type, WGPUStringView message,
                                          void *userdata1, void *userdata2);
typedef struct {
    const WGPUChainedStruct *nextInChain;
    uint32_t mode;
    WGPUPopErrorScopeCallback callback;
    void *userdata1, *userdata2;
} WGPUPopErrorScopeCallbackInfo;

typedef void (*WGPUQueueWorkDoneCallback)(uint32_t status, WGPUStringView message, void *userdata1, void *userdata2);
typedef struct {
    const WGPUChainedStruct *nextInChain;
    uint32_t mode;
    WGPUQueueWorkDoneCallback callback;
    void *userdata1, *userdata2;
} WGPUQueueWorkDoneCallbackInfo;

/* The functions wgpt resolves from the library, as an X-macro list:
 * X(return type, name, parameter list). */
#define WGPU_FUNCTIONS(X)                                                                                         \
    X(WGPUInstance, wgpuCreateInstance, (const void *descriptor))                                                 \
    X(void, wgpuInstanceRelease, (WGPUInstance))                                                                  \
    X(void, wgpuInstanceProcessEvents, (WGPUInstance))                                                            \
    X(WGPUFuture, wgpuInstanceRequestAdapter, (WGPUInstance, const WGPURequestAdapterOptions *,                   \
                                               WGPURequestAdapterCallbackInfo))                                   \
    X(uint32_t, wgpuAdapterGetInfo, (WGPUAdapter, WGPUAdapterInfo *))                                             \
    X(void, wgpuAdapterInfoFreeMembers, (WGPUAdapterInfo))                                                        \
    X(uint32_t, wgpuAdapterGetLimits, (WGPUAdapter, WGPULimits *))                                                \
    X(WGPUBool, wgpuAdapterHasFeature, (WGPUAdapter, uint32_t))                                                   \
    X(WGPUFuture, wgpuAdapterRequestDevice, (WGPUAdapter, const WGPUDeviceDescriptor *,                           \
                                             WGPURequestDeviceCallbackInfo))                                      \
    X(void, wgpuAdapterRelease, (WGPUAdapter))                                                                    \
    X(uint32_t, wgpuDeviceGetLimits, (WGPUDevice, WGPULimits *))                                                  \
    X(WGPUQueue, wgpuDeviceGetQueue, (WGPUDevice))                                                                \
    X(void, wgpuDeviceRelease, (WGPUDevice))                                                                      \
    X(void, wgpuDeviceDestroy, (WGPUDevice))                                                                      \
    X(void, wgpuDevicePushErrorScope, (WGPUDevice, uint32_t))                                                     \
    X(WGPUFuture, wgpuDevicePopErrorScope, (WGPUDevice, WGPUPopErrorScopeCallbackInfo))                           \
    X(WGPUBuffer, wgpuDeviceCreateBuffer, (WGPUDevice, const WGPUBufferDescriptor *))                             \
    X(void, wgpuBufferRelease, (WGPUBuffer))                                                                      \
    X(void, wgpuBufferDestroy, (WGPUBuffer))                                                                      \
    X(WGPUFuture, wgpuBufferMapAsync, (WGPUBuffer, WGPUFlags, size_t, size_t, WGPUBufferMapCallbackInfo))         \
    X(const void *, wgpuBufferGetConstMappedRange, (WGPUBuffer, size_t, size_t))                                  \
    X(void, wgpuBufferUnmap, (WGPUBuffer))                                                                        \
    X(void, wgpuQueueWriteBuffer, (WGPUQueue, WGPUBuffer, uint64_t, const void *, size_t))                        \
    X(void, wgpuQueueSubmit, (WGPUQueue, size_t, const WGPUCommandBuffer *))                                      \
    X(WGPUFuture, wgpuQueueOnSubmittedWorkDone, (WGPUQueue, WGPUQueueWorkDoneCallbackInfo))                       \
    X(void, wgpuQueueRelease, (WGPUQueue))                                                                        \
    X(WGPUShaderModule, wgpuDeviceCreateShaderModule, (WGPUDevice, const WGPUShaderModuleDescriptor *))           \
    X(void, wgpuShaderModuleRelease, (WGPUShaderModule))                                                          \
    X(WGPUComputePipeline, wgpuDeviceCreateComputePipeline, (WGPUDevice, const WGPUComputePipelineDescriptor *))  \
    X(WGPUBindGroupLayout, wgpuComputePipelineGetBindGroupLayout, (WGPUComputePipeline, uint32_t))                \
    X(void, wgpuComputePipelineRelease, (WGPUComputePipeline))                                                    \
    X(void, wgpuBindGroupLayoutRelease, (WGPUBindGroupLayout))                                                    \
    X(WGPUBindGroup, wgpuDeviceCreateBindGroup, (WGPUDevice, const WGPUBindGroupDescriptor *))                    \
    X(void, wgpuBindGroupRelease, (WGPUBindGroup))                                                                \
    X(WGPUCommandEncoder, wgpuDeviceCreateCommandEncoder, (WGPUDevice, const WGPUCommandEncoderDescriptor *))     \
    X(WGPUComputePassEncoder, wgpuCommandEncoderBeginComputePass, (WGPUCommandEncoder,                            \
                                                                   const WGPUComputePassDescriptor *))            \
    X(void, wgpuCommandEncoderCopyBufferToBuffer, (WGPUCommandEncoder, WGPUBuffer, uint64_t, WGPUBuffer,          \
                                                   uint64_t, uint64_t))                                           \
    X(void, wgpuCommandEncoderResolveQuerySet, (WGPUCommandEncoder, WGPUQuerySet, uint32_t, uint32_t,             \
                                                WGPUBuffer, uint64_t))                                            \
    X(WGPUCommandBuffer, wgpuCommandEncoderFinish, (WGPUCommandEncoder, const WGPUCommandBufferDescriptor *))     \
    X(void, wgpuCommandEncoderRelease, (WGPUCommandEncoder))                                                      \
    X(void, wgpuCommandBufferRelease, (WGPUCommandBuffer))                                                        \
    X(void, wgpuComputePassEncoderSetPipeline, (WGPUComputePassEncoder, WGPUComputePipeline))                     \
    X(void, wgpuComputePassEncoderSetBindGroup, (WGPUComputePassEncoder, uint32_t, WGPUBindGroup, size_t,         \
                                                 const uint32_t *))                                               \
    X(void, wgpuComputePassEncoderDispatchWorkgroups, (WGPUComputePassEncoder, uint32_t, uint32_t, uint32_t))     \
    X(void, wgpuComputePassEncoderEnd, (WGPUComputePassEncoder))                                                  \
    X(void, wgpuComputePassEncoderRelease, (WGPUComputePassEncoder))                                              \
    X(WGPUQuerySet, wgpuDeviceCreateQuerySet, (WGPUDevice, const WGPUQuerySetDescriptor *))                       \
    X(void, wgpuQuerySetRelease, (WGPUQuerySet))

#endif
