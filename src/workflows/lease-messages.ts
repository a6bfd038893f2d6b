// Signals of the merge lease. Their names are a wire contract between running workflows.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { LeaseGrant, LeaseRelease, LeaseRequest, LeaseState } from '../domain';

/** To the lease: a work item asks for the lease (queued FIFO). */
export const leaseAcquireSignal = defineSignal<[LeaseRequest]>('leaseAcquire');
/** To the lease: the holder is done, or a queued item no longer wants it. */
export const leaseReleaseSignal = defineSignal<[LeaseRelease]>('leaseRelease');
/** To a work item: the lease is yours. */
export const leaseGrantedSignal = defineSignal<[LeaseGrant]>('leaseGranted');
export const leaseStateQuery = defineQuery<LeaseState>('leaseState');
