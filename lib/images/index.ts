// lib/images: build the workloads' images with content-derived tags, and the offline base.
export { COMPONENTS, IMAGES, STORES, buildImages, buildPlanned, nodeImageFrom, planImage, referencedImages } from './build.ts';
export type { BuildOptions, BuildResult, ImagePlan } from './build.ts';
export { DEFAULT_NODE_IMAGE, baseImageRef, offlineBaseImageRef } from './base.ts';
export { contextTag, listContext, TAG_LENGTH } from './context.ts';
export { archiveRefs, exportImages, exportableRefs } from './export.ts';
export type { ExportOptions, ExportResult } from './export.ts';
