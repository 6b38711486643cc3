import { InProcessQueueEvents } from '../../src/bus/in-process-queue-events';
import { describeQueueEventsContract } from '../contracts/queue-events-contract';

describeQueueEventsContract('in-process', async () => ({ instances: [new InProcessQueueEvents(() => {})], close: async () => {} }));
