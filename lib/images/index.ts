// lib/images: build the workloads' images with content-derived tags, and the offline base.
export { COMPONENTS, buildImages, buildPlanned, nodeImageFrom, planImage } from './build.ts';
export type { BuildOptions, BuildResult, ComponentKey, ImageNames, ImagePlan, ImageRefs } from './build.ts';
export { DEFAULT_NODE_IMAGE, baseImageRef, offlineBaseImageRef } from './base.ts';
export { contextTag, listContext, TAG_LENGTH } from './context.ts';
export type { Redact } from './docker.ts';
export { archiveRefs, exportImages, exportableRefs } from './export.ts';
export type { ExportOptions, ExportResult } from './export.ts';
