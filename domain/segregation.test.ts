import { RECORDED_DUTIES, segregationRefusal } from './segregation';

const requesterId = '3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f';
const implementerId = 'a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d';

describe('segregation of duties after approval', () => {
  it.each(RECORDED_DUTIES)('refuses the requester recording %s', (duty) => {
    expect(segregationRefusal(duty, requesterId, requesterId)).toEqual({
      rule: 'segregation_of_duties',
      message: expect.stringContaining('someone else must record it'),
    });
  });

  it.each(RECORDED_DUTIES)('lets anyone else record %s', (duty) => {
    expect(segregationRefusal(duty, implementerId, requesterId)).toBeNull();
  });

  it('names the duty refused', () => {
    expect(segregationRefusal('implementation', requesterId, requesterId)?.message).toMatch(/implementation/);
    expect(segregationRefusal('review', requesterId, requesterId)?.message).toMatch(/review/);
    expect(segregationRefusal('receipt', requesterId, requesterId)?.message).toMatch(/received/);
  });

  it('compares email addresses without regard to case, as the workflow knows the requester by email', () => {
    expect(segregationRefusal('implementation', 'Claire.Dubois@Northwind.example', 'claire.dubois@northwind.example')?.rule).toBe('segregation_of_duties');
    expect(segregationRefusal('implementation', 'oliver.brown@northwind.example', 'claire.dubois@northwind.example')).toBeNull();
  });

  it('refuses no one when the request has no known requester', () => {
    expect(segregationRefusal('receipt', implementerId, null)).toBeNull();
    expect(segregationRefusal('receipt', implementerId, undefined)).toBeNull();
    expect(segregationRefusal('receipt', implementerId, '')).toBeNull();
  });
});
