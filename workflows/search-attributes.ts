import { defineSearchAttributeKey } from '@temporalio/common';

/**
 * Custom search attributes every assetflow workflow keeps current, so that the Temporal UI and
 * `temporal workflow list --query` filter processes by business terms.
 */
export const processTypeKey = defineSearchAttributeKey('AssetflowProcess', 'KEYWORD');
export const processStateKey = defineSearchAttributeKey('AssetflowState', 'KEYWORD');
export const businessNumberKey = defineSearchAttributeKey('AssetflowBusinessNumber', 'KEYWORD');

export const SEARCH_ATTRIBUTE_KEYS = [processTypeKey, processStateKey, businessNumberKey];
