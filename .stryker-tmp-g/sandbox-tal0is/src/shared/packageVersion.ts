// @ts-nocheck
import { readFileSync } from 'node:fs';

/** This package's version, for the CLIs' --version; package.json sits two levels up from src/shared/, dist/shared/ and grpc-client's bundle in dist/bin/ alike. */
export const PACKAGE_VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
