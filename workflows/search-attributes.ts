import { defineSearchAttributeKey } from '@temporalio/common';

/**
 * Custom search attributes every assetflow workflow keeps current, so that the Temporal UI and
 * `temporal workflow list --query` filter processes by business terms.
 */
export const processTypeKey = defineSearchAttributeKey('AssetflowProcess', 'KEYWORD');
export const processStateKey = defineSearchAttributeKey('AssetflowState', 'KEYWORD');
export const businessNumberKey = defineSearchAttributeKey('AssetflowBusinessNumber', 'KEYWORD');
/** The requester's email (changes and purchases), or the assignee's (assets). */
export const requesterKey = defineSearchAttributeKey('AssetflowRequester', 'KEYWORD');
/** Emails of the approvers whose decision the process waits for now. */
export const waitingForKey = defineSearchAttributeKey('AssetflowWaitingFor', 'KEYWORD_LIST');

export const SEARCH_ATTRIBUTE_KEYS = [processTypeKey, processStateKey, businessNumberKey, requesterKey, waitingForKey];
