export {
  GroupController,
  DEFAULT_CONTROLLER_TIMINGS,
  type GroupControllerOptions,
  type ControllerTimings,
  type ControllerStatus,
  type RoleChange,
  type FenceInfo,
  type CampaignInfo,
} from './group-controller.js';
export { GroupKeys, type MasterRecord, type InSyncRecord, type CandidateRecord, type PreferredRecord } from './keys.js';
